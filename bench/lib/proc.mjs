// Child processes for the benchmark: servers pinned to a CPU in their own process group
// (stopped by that group's id, never by name), bounded client runs, readiness probes.

import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a server may take to answer its first probe. */
export const READY_TIMEOUT_MS = 15_000;
/** How long a server gets after SIGTERM before its whole group is killed. */
export const STOP_GRACE_MS = 3_000;

const live = new Set();

/** Start `argv` pinned to `cpu` in a new session (its own process group); output to `logFile`. */
export function startServer(argv, cpu, logFile) {
  const fd = openSync(logFile, 'a');
  const child = spawn('taskset', ['-c', String(cpu), ...argv], {
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => resolve({ code: null, signal: null, error: err }));
  });
  child.logFile = logFile;
  live.add(child);
  return child;
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** SIGTERM the server's group, wait up to STOP_GRACE_MS, then SIGKILL what is left of it. */
export async function stopServer(child) {
  if (child.exitCode === null && child.signalCode === null) {
    killGroup(child, 'SIGTERM');
    await Promise.race([child.exited, sleep(STOP_GRACE_MS)]);
  }
  killGroup(child, 'SIGKILL'); // forked children (socat) may outlive the leader
  await Promise.race([child.exited, sleep(STOP_GRACE_MS)]);
  live.delete(child);
}

/** Kill every server still running (on Ctrl-C or a harness failure). */
export function killAllServers() {
  for (const child of live) killGroup(child, 'SIGKILL');
  live.clear();
}

/** The last lines of a server's log, for error messages. */
export function logTail(child, lines = 8) {
  try {
    return readFileSync(child.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

// True when `start(done)` reports done(true) within `timeoutMs`; `start` returns a closer.
function probe(timeoutMs, start) {
  return new Promise((resolve) => {
    let settled = false;
    let close = () => {};
    const done = (ok) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    close = start(done);
  });
}

const tcpProbe = (port, timeoutMs) =>
  probe(timeoutMs, (done) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    return () => socket.destroy();
  });

const udpProbe = (port, timeoutMs) =>
  probe(timeoutMs, (done) => {
    const socket = dgram.createSocket('udp4');
    socket.once('message', () => done(true));
    socket.once('error', () => done(false));
    socket.send(Buffer.from('wirecat-bench ready?'), port, '127.0.0.1');
    return () => socket.close();
  });

/** Wait until the server answers on 127.0.0.1:port; throws if it exits or never answers. */
export async function waitReady(child, transport, port) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited before listening on ${port}:\n${logTail(child)}`);
    }
    const ok = transport === 'udp' ? await udpProbe(port, 200) : await tcpProbe(port, 500);
    if (ok) return;
    await sleep(50);
  }
  throw new Error(
    `server did not answer on ${transport} port ${port} within ${READY_TIMEOUT_MS} ms:\n${logTail(child)}`,
  );
}

/** Read one stream reply to the end (a daytime line); bounded by `timeoutMs`. */
export function readReply(port, timeoutMs = 5_000) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete reply from port ${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks));
    });
  });
}

/** True when a TCP or UDP port on 127.0.0.1 is free to bind (nothing else listens there). */
export function portFree(transport, port) {
  return new Promise((resolve) => {
    if (transport === 'udp') {
      const socket = dgram.createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind({ port, address: '127.0.0.1', exclusive: true }, () =>
        socket.close(() => resolve(true)),
      );
      return;
    }
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      server.close(() => resolve(true)),
    );
  });
}

/**
 * Run a client to completion with a hard time limit (then SIGKILL by its pid).
 * Resolves with { code, signal, stdout, stderr, timedOut }.
 */
export function runBounded(cmd, args, timeoutMs, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    const out = [];
    const err = [];
    let timedOut = false;
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => err.push(Buffer.from(String(e))));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        timedOut,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      });
    });
  });
}
