// Tools for the adversarial suite (test/attack-*.test.ts): many raw sockets at once, a
// `wirecat serve` child (optionally under prlimit), its RSS and open fds from /proc, round-trip
// latencies of a well-behaved client, and figures reported as test diagnostics.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { spawnCli, waitFor } from './helpers.js';

/** WIRECAT_HEAVY=1 runs the thousands-of-connections variants (not in a plain `npm test`). */
export const HEAVY = process.env.WIRECAT_HEAVY === '1';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The p-th percentile (0–100) of `values`. */
export function percentile(values: number[], p: number): number {
  assert.ok(values.length > 0, 'no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Print a figure with the test output (node --test shows diagnostics in every reporter). */
export function figure(t: TestContext, text: string): void {
  t.diagnostic(text);
}

/** Resident memory of a process in MiB (Linux /proc). */
export function rssMiB(pid = process.pid): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

/** Open file descriptors of a process (Linux /proc). */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** A raw client socket that records how the server treated it. */
export interface Probe {
  socket: net.Socket;
  text(): string;
  closed: boolean;
  /** Milliseconds from connect to close (once closed). */
  closedAfter: number;
}

/**
 * Open `n` connections (at most `batch` connecting at once); each collects what it receives.
 * All are destroyed when the test ends. Connections the server refuses count as closed.
 */
export async function openMany(
  t: TestContext,
  port: number,
  n: number,
  options: { host?: string; localAddress?: string; batch?: number } = {},
): Promise<Probe[]> {
  const probes: Probe[] = [];
  t.after(() => {
    for (const p of probes) p.socket.destroy();
  });
  const batch = options.batch ?? 100;
  for (let i = 0; i < n; i += batch) {
    const wave: Promise<void>[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) {
      const socket = net.connect({
        port,
        host: options.host ?? '127.0.0.1',
        localAddress: options.localAddress,
        allowHalfOpen: true,
      });
      const started = Date.now();
      const parts: Buffer[] = [];
      const probe: Probe = {
        socket,
        text: () => Buffer.concat(parts).toString('latin1'),
        closed: false,
        closedAfter: -1,
      };
      socket.on('data', (d) => parts.push(d));
      socket.on('error', () => {});
      socket.on('end', () => socket.end());
      socket.on('close', () => {
        probe.closed = true;
        probe.closedAfter = Date.now() - started;
      });
      probes.push(probe);
      wave.push(
        new Promise<void>((resolve) => {
          socket.once('connect', () => resolve());
          socket.once('close', () => resolve());
        }),
      );
    }
    await Promise.all(wave);
  }
  return probes;
}

/** Round trips of `size` bytes on one fresh echo connection, `gapMs` apart; resolves with each one's ms. */
export async function echoLatencies(
  port: number,
  count: number,
  options: { size?: number; gapMs?: number } = {},
): Promise<number[]> {
  const size = options.size ?? 32;
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const payload = Buffer.alloc(size, 0x61);
  const times: number[] = [];
  let failed: Error | undefined;
  socket.on('error', (err) => {
    failed = err;
  });
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      socket.write(payload);
      let got = 0;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('echo round trip over 5 s')), 5000);
        const onData = (d: Buffer) => {
          got += d.length;
          if (got >= size) {
            clearTimeout(timer);
            socket.off('data', onData);
            resolve();
          }
        };
        socket.on('data', onData);
        if (failed) reject(failed);
      });
      times.push(performance.now() - started);
      if (options.gapMs) await sleep(options.gapMs);
    }
  } finally {
    socket.destroy();
  }
  return times;
}

/** A `wirecat serve` child with its parsed startup table. */
export interface ServeChild {
  child: ChildProcess;
  pid: number;
  output(): string;
  errors(): string;
  /** The port of `service` over `transport` from the startup table. */
  port(service: string, transport?: string): number;
  /** Resolves with the exit code and signal (or rejects after `timeoutMs`). */
  exited(timeoutMs?: number): Promise<{ code: number | null; signal: string | null }>;
}

/**
 * Start `wirecat serve ARGS` (under `wrapper`, e.g. ['prlimit', '--nofile=64:64'], when given),
 * wait for its table; SIGKILLed by PID when the test ends.
 */
export async function serveChild(
  t: TestContext,
  args: string[],
  wrapper: string[] = [],
): Promise<ServeChild> {
  const child = spawnCli(t, ['serve', ...args], wrapper);
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const done = () => child.exitCode !== null || child.signalCode !== null;
  await waitFor(() => done() || /Ctrl-C stops/.test(child.output()), 'the startup table', 15_000);
  assert.ok(!done(), `wirecat serve exited early: ${child.errors()}`);
  const out = () => child.output();
  return {
    child,
    pid: child.pid as number,
    output: out,
    errors: () => child.errors(),
    port(service, transport = 'tcp') {
      const re = new RegExp(`^${service}\\s+${transport}\\s+\\S+:(\\d+)\\s*$`, 'm');
      const m = re.exec(out());
      assert.ok(m, `no ${transport} row for ${service} in:\n${out()}`);
      return Number(m[1]);
    },
    exited: (timeoutMs = 10_000) =>
      Promise.race([
        exit,
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`wirecat serve did not exit within ${timeoutMs} ms`)),
            timeoutMs,
          ).unref(),
        ),
      ]),
  };
}
