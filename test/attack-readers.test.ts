// Attack: clients that never read. Echo clients that send and never read their echo, and
// chargen clients that never read the stream, against a `wirecat serve` child: the server
// stops reading from them and holds at most a socket's worth for each, so its memory stays
// bounded (RSS from /proc), and a normal client is served promptly meanwhile.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  echoLatencies,
  figure,
  HEAVY,
  openMany,
  percentile,
  rssMiB,
  serveChild,
  sleep,
} from './attack-helpers.js';

test('clients that never read: server RSS stays bounded, a normal client is unaffected', async (t) => {
  const n = HEAVY ? 2_000 : 150;
  const served = await serveChild(t, [
    'echo=tcp://127.0.0.1:0',
    'chargen=tcp://127.0.0.1:0',
    '--max-per-source',
    String(4 * n),
  ]);
  const echoPort = served.port('echo');
  const rssIdle = rssMiB(served.pid);
  const echoers = await openMany(t, echoPort, n);
  const readers = await openMany(t, served.port('chargen'), n);
  for (const p of [...echoers, ...readers]) p.socket.pause(); // never read
  // Each echo client pushes 1 MiB (more than the kernel buffers and maxBufferedBytes hold).
  const chunk = Buffer.alloc(64 * 1024, 0x45);
  for (let round = 0; round < 16; round++) {
    for (const p of echoers) p.socket.write(chunk);
    await sleep(20);
  }
  await sleep(1500);
  const rssLoaded = rssMiB(served.pid);
  await sleep(1000);
  const rssLater = rssMiB(served.pid);
  const latencies = await echoLatencies(echoPort, 200, { gapMs: 2 });
  const p99 = percentile(latencies, 99);
  assert.equal(served.child.exitCode, null, `the server died: ${served.errors()}`);
  assert.ok(
    rssLater - rssLoaded < 16,
    `server RSS still growing: ${rssLoaded.toFixed(0)} -> ${rssLater.toFixed(0)} MiB`,
  );
  // Bounded per connection: the socket's high-water mark plus one chunk, far from 1 MiB each.
  const perConn = ((rssLater - rssIdle) * 1024) / (2 * n);
  assert.ok(perConn < 256, `${perConn.toFixed(0)} KiB per non-reading connection`);
  assert.ok(p99 < 250, `a normal echo client waited ${p99.toFixed(1)} ms (p99)`);
  const alive = [...echoers, ...readers].filter((p) => !p.closed).length;
  figure(
    t,
    `never-reading clients: ${n} echo (1 MiB sent each) + ${n} chargen: server RSS ${rssIdle.toFixed(0)} -> ${rssLater.toFixed(0)} MiB (${perConn.toFixed(0)} KiB per connection), flat over 1 s; ${alive} still connected (paused, not cut); normal echo p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`,
  );
});
