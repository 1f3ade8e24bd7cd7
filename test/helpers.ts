// Shared test tools: real servers on port 0, raw socket clients, the built CLI as a child
// process, peer programs that skip locally and fail in CI when missing, temp folders.

import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Binding, type Host, type ServeOptions, serve } from '../src/index.js';

/** The built command (npm test builds first). */
export const CLI = fileURLToPath(new URL('../dist/cli/wirecat.js', import.meta.url));

/** Start services (specs like 'echo=tcp://127.0.0.1:0') and close them when the test ends. */
export async function startHost(
  t: TestContext,
  specs: (string | Binding)[],
  options: ServeOptions = {},
): Promise<Host> {
  const host = await serve(specs, options);
  t.after(() => host.close(0));
  return host;
}

/** The port a service listens on over a transport. */
export function portOf(host: Host, service: string, transport = 'tcp'): number {
  const l = host.listeners.find((x) => x.service === service && x.transport === transport);
  assert.ok(l?.port !== undefined, `no ${transport} listener for ${service}`);
  return l.port;
}

/**
 * The classic socket-tutorial client: connect, send, optionally half-close, read until the
 * server closes. Resolves with every byte received.
 */
export function exchange(
  target: number | { path: string } | { host: string; port: number },
  send: Buffer | string | (Buffer | string)[] = [],
  options: { halfClose?: boolean; timeoutMs?: number } = {},
): Promise<Buffer> {
  const where = typeof target === 'number' ? { host: '127.0.0.1', port: target } : target;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ ...where, allowHalfOpen: true });
    const parts: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `no close from the server within ${options.timeoutMs ?? 5000} ms; got ${Buffer.concat(parts).length} bytes`,
        ),
      );
    }, options.timeoutMs ?? 5000);
    socket.on('connect', () => {
      for (const piece of Array.isArray(send) ? send : [send]) socket.write(piece);
      if (options.halfClose !== false) socket.end();
    });
    socket.on('data', (d) => parts.push(d));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      socket.end();
      resolve(Buffer.concat(parts));
    });
  });
}

/** Send one datagram and resolve with the first reply, or undefined after `timeoutMs`. */
export function datagram(
  port: number,
  payload: Buffer | string,
  options: { host?: string; timeoutMs?: number; bindPort?: number } = {},
): Promise<Buffer | undefined> {
  const host = options.host ?? '127.0.0.1';
  const socket = dgram.createSocket(net.isIP(host) === 6 ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    const finish = (reply: Buffer | undefined) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    const timer = setTimeout(() => finish(undefined), options.timeoutMs ?? 1000);
    socket.on('message', (msg) => finish(msg));
    socket.on('error', (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
    socket.bind(options.bindPort ?? 0, host, () => socket.send(payload, port, host));
  });
}

/** Result of running the CLI. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Run `wirecat ARGS` to completion with `input` on stdin (closed at once when absent). */
export function runCli(
  args: string[],
  options: { input?: Buffer | string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `wirecat ${args.join(' ')} did not exit within ${options.timeoutMs ?? 10_000} ms; stderr: ${err}`,
        ),
      );
    }, options.timeoutMs ?? 10_000);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

/**
 * Start `wirecat ARGS` in the background (under `wrapper`, e.g. ['prlimit', '--nofile=64'],
 * when given); it is killed (by PID) when the test ends.
 */
export function spawnCli(
  t: TestContext,
  args: string[],
  wrapper: string[] = [],
): ChildProcess & { output: () => string; errors: () => string } {
  const argv = [...wrapper, process.execPath, CLI, ...args];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return Object.assign(child, { output: () => out, errors: () => err });
}

/** Wait until `check()` is truthy, polling, or fail after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | false,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * True when `program` is installed. When it is missing the test is skipped with a clear
 * message — except in CI (CI=true), where a missing peer program is a failure.
 */
export function requirePeer(t: TestContext, program: string, debianPackage = program): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    const message = `${program} is not installed (apt-get install ${debianPackage})`;
    if (process.env.CI === 'true') assert.fail(`${message}: interop tests never skip in CI`);
    t.skip(message);
    return false;
  }
}

/** A temp folder removed when the test ends. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'wirecat-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A raw stream client for step-by-step tests: write, wait for bytes, half-close, reset. */
export interface TestClient {
  readonly socket: net.Socket;
  /** Every byte received so far. */
  received(): Buffer;
  /** Wait until `check(received)` holds; fails on timeout or if the server closes first. */
  waitFor(check: (received: Buffer) => boolean, what: string, timeoutMs?: number): Promise<Buffer>;
  /** Resolves with everything received once the server has half-closed (FIN). */
  readonly ended: Promise<Buffer>;
  /** Resolves once the socket is fully closed (either side, or a reset). */
  readonly closed: Promise<void>;
}

/** Connect a half-open-capable client (TCP by port or address, or Unix by path); destroyed when the test ends. */
export async function openClient(
  t: TestContext,
  target: number | { path: string } | { host: string; port: number },
): Promise<TestClient> {
  const where = typeof target === 'number' ? { host: '127.0.0.1', port: target } : target;
  const socket = net.connect({ ...where, allowHalfOpen: true });
  t.after(() => {
    socket.destroy();
  });
  const parts: Buffer[] = [];
  let size = 0;
  let cache: Buffer | undefined;
  let wake: () => void = () => {};
  let finished = false;
  const received = () => {
    if (!cache || cache.length !== size) cache = Buffer.concat(parts, size);
    return cache;
  };
  socket.on('data', (d) => {
    parts.push(d);
    size += d.length;
    wake();
  });
  socket.on('error', () => {}); // resets are part of several tests; `closed` still resolves
  const ended = new Promise<Buffer>((resolve) => socket.on('end', () => resolve(received())));
  const closed = new Promise<void>((resolve) =>
    socket.on('close', () => {
      finished = true;
      wake();
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const waitForBytes = async (
    check: (bytes: Buffer) => boolean,
    what: string,
    timeoutMs = 5000,
  ): Promise<Buffer> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (check(received())) return received();
      if (finished) throw new Error(`connection closed before ${what}; got ${size} bytes`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${size} bytes`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };
  return { socket, received, waitFor: waitForBytes, ended, closed };
}

/** Send UDP datagrams (`count`, back to back) with a forged source address and port (raw socket; needs root). */
export function spoof(
  from: [string, number],
  to: [string, number],
  payload: string,
  count = 1,
): Promise<string> {
  const script = `
import socket, struct, sys
src, sport, dst, dport, data = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5].encode()
udp = struct.pack('!HHHH', sport, dport, 8 + len(data), 0) + data
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                 socket.inet_aton(src), socket.inet_aton(dst))
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for _ in range(int(sys.argv[6])):
    s.sendto(ip + udp, (dst, 0))
print('sent')
`;
  return new Promise((resolve) => {
    execFile(
      'python3',
      ['-c', script, from[0], String(from[1]), to[0], String(to[1]), payload, String(count)],
      { timeout: 5000 },
      (err, stdout, stderr) => resolve(err ? `failed: ${stderr || err.message}` : stdout.trim()),
    );
  });
}

/**
 * Ask a one-shot service (qotd, daytime, time) on every transport: TCP IPv4 (sending nothing,
 * no half-close: the server must close on its own), TCP IPv6 (sending `request`), Unix, and
 * UDP over IPv4 and IPv6 (`request` as the datagram). Resolves with the five replies.
 */
export async function askOnEveryTransport(
  t: TestContext,
  service: string,
  request: Buffer | string,
  options: ServeOptions = {},
): Promise<(Buffer | undefined)[]> {
  const path = join(tempDir(t), `${service}.sock`);
  const host = await startHost(
    t,
    [
      'tcp://127.0.0.1:0',
      'tcp://[::1]:0',
      `unix:${path}`,
      'udp://127.0.0.1:0',
      'udp://[::1]:0',
    ].map((endpoint) => `${service}=${endpoint}`),
    options,
  );
  const [tcp4, tcp6, , udp4, udp6] = host.listeners.map((l) => l.port as number);
  return [
    await exchange(tcp4, [], { halfClose: false }),
    await exchange({ host: '::1', port: tcp6 }, request),
    await exchange({ path }, []),
    await datagram(udp4, request),
    await datagram(udp6, request, { host: '::1' }),
  ];
}

/**
 * A half-open-capable client that records bytes, FIN, close and the error. With `accepted`,
 * it first has one echo answered (the server must echo).
 */
export async function halfOpenClient(
  t: TestContext,
  port: number,
  opts: { accepted?: boolean } = {},
) {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  t.after(() => socket.destroy());
  const state = { data: '', fin: false, closed: false, error: '' };
  socket.on('data', (d) => {
    state.data += d;
  });
  socket.on('end', () => {
    state.fin = true;
  });
  socket.on('close', () => {
    state.closed = true;
  });
  socket.on('error', (e: NodeJS.ErrnoException) => {
    state.error = e.code ?? e.message;
  });
  await new Promise((r) => socket.once('connect', r));
  if (opts.accepted) {
    // 'connect' only means the kernel queued us. One echo proves the server holds the
    // connection, so what the test sees does not hang on how a signal and an accept race.
    socket.write('in?');
    await waitFor(() => state.data === 'in?', 'the server to accept');
    state.data = '';
  }
  return { socket, state };
}

/** The server side is gone: what we write now is answered with a reset. */
export async function assertCutOff(socket: net.Socket, state: { closed: boolean; error: string }) {
  // The first write draws a reset; a later one then fails (reading stopped at the FIN).
  for (let i = 0; i < 40 && !state.closed; i++) {
    socket.write('anyone?');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(state.closed, 'the connection was never cut');
  assert.match(state.error, /ECONNRESET|EPIPE/);
}
