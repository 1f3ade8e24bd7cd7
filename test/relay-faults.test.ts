// relay fault injection, each measured: delay, jitter (order kept), rate, UDP drop,
// reset-after (RST both sides, exactly N bytes through), stall-after (open but silent).

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { test } from 'node:test';
import { relay } from '../src/client/relay.js';
import { exchange, openClient, portOf, startHost } from './helpers.js';

async function startRelay(
  t: import('node:test').TestContext,
  b: string,
  options: Parameters<typeof relay>[2],
  a = 'tcp://127.0.0.1:0',
) {
  const r = await relay(a, b, { keepOpen: true, ...options });
  t.after(() => r.close());
  return r.listeners[0].port as number;
}

/** A deterministic random source (LCG), so drop and jitter counts are exact. */
function seeded(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

test('--delay holds each direction: a round trip through echo takes 2 × delay', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const port = await startRelay(t, `tcp://127.0.0.1:${portOf(host, 'echo')}`, {
    faults: { delayMs: 200 },
  });
  const started = performance.now();
  const reply = await exchange(port, 'ping');
  const ms = performance.now() - started;
  assert.equal(reply.toString(), 'ping');
  assert.ok(ms >= 400 && ms < 1200, `round trip ${ms.toFixed(0)} ms, expected about 400`);
});

test('--delay with --jitter varies the timing but never the order', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const port = await startRelay(t, `tcp://127.0.0.1:${portOf(host, 'echo')}`, {
    faults: { delayMs: 60, jitterMs: 50, direction: 'to-a', random: seeded(7) },
  });
  const client = await openClient(t, port);
  const arrivals: number[] = [];
  let seen = 0;
  client.socket.on('data', (d) => {
    for (let i = 0; i < d.length; i++) arrivals[seen + i] = performance.now();
    seen += d.length;
  });
  const sentAt: number[] = [];
  for (let i = 0; i < 30; i++) {
    sentAt.push(performance.now());
    client.socket.write(String.fromCharCode(65 + (i % 26)));
    await new Promise((r) => setTimeout(r, 15));
  }
  const all = await client.waitFor((b) => b.length === 30, '30 bytes back');
  const expected = Array.from({ length: 30 }, (_, i) => String.fromCharCode(65 + (i % 26))).join(
    '',
  );
  assert.equal(all.toString(), expected, 'order kept');
  const latencies = sentAt.map((s, i) => arrivals[i] - s);
  const spread = Math.max(...latencies) - Math.min(...latencies);
  assert.ok(Math.min(...latencies) >= 9, `no byte beats delay - jitter (${latencies})`);
  assert.ok(spread >= 20, `jitter spreads latencies: spread ${spread.toFixed(0)} ms`);
  client.socket.destroy();
});

test('--rate limits the throughput to about the rate', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const port = await startRelay(t, `tcp://127.0.0.1:${portOf(host, 'echo')}`, {
    faults: { rateBytesPerSec: 40_000, direction: 'to-a' },
  });
  const payload = Buffer.alloc(60_000, 0x61);
  const started = performance.now();
  const reply = await exchange(port, payload, { timeoutMs: 10_000 });
  const seconds = (performance.now() - started) / 1000;
  assert.equal(reply.length, payload.length);
  const rate = payload.length / seconds;
  // 60 kB at 40 kB/s: 1.5 s minus one 20 ms burst.
  assert.ok(rate > 30_000 && rate < 44_000, `measured ${rate.toFixed(0)} B/s for 40000 B/s`);
});

test('--drop drops the given share of UDP datagrams', async (t) => {
  const host = await startHost(t, ['echo=udp://127.0.0.1:0']);
  const port = await startRelay(
    t,
    `udp://127.0.0.1:${portOf(host, 'echo', 'udp')}`,
    { faults: { dropPercent: 30, direction: 'to-b', random: seeded(42) } },
    'udp://127.0.0.1:0',
  );
  const socket = dgram.createSocket('udp4');
  t.after(() => socket.close());
  let replies = 0;
  socket.on('message', () => {
    replies++;
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const total = 400;
  for (let i = 0; i < total; i++) {
    socket.send(`d${i}`, port, '127.0.0.1');
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 500));
  const dropped = (total - replies) / total;
  assert.ok(dropped > 0.22 && dropped < 0.38, `dropped ${(dropped * 100).toFixed(1)}%, asked 30%`);
});

test('--reset-after N: exactly N bytes reach upstream, then both sides get a RST', async (t) => {
  let upstreamBytes = 0;
  let upstreamError: string | undefined;
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('data', (d) => {
      upstreamBytes += d.length;
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      upstreamError = err.code;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const port = await startRelay(
    t,
    `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    { faults: { resetAfterBytes: 1000 } },
  );
  const socket = net.connect({ port, host: '127.0.0.1' });
  const clientError = await new Promise<string | undefined>((resolve) => {
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code));
    socket.on('close', () => resolve(undefined));
    socket.on('connect', () => socket.write(Buffer.alloc(5000, 1)));
  });
  assert.equal(clientError, 'ECONNRESET');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(upstreamBytes, 1000);
  assert.equal(upstreamError, 'ECONNRESET');
});

test('--stall-after N: N bytes pass, then nothing, and the connection stays open', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const port = await startRelay(t, `tcp://127.0.0.1:${portOf(host, 'echo')}`, {
    faults: { stallAfterBytes: 100 },
  });
  const client = await openClient(t, port);
  client.socket.write(Buffer.alloc(300, 0x62));
  await client.waitFor((b) => b.length >= 100, '100 bytes');
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(client.received().length, 100, 'nothing after the stall');
  assert.equal(client.socket.readyState, 'open', 'still connected');
  client.socket.destroy();
});
