// The event store samples a busy connection: past maxDataStepsPerFlowPerSec it folds chunks
// into existing steps (no new step, no preview copy), and the byte counts stay exact.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { subscribeAll } from '../src/observe/channels.js';
import { EventStore } from '../src/observe/store.js';
import { openClient, startHost } from './helpers.js';

test('a ping-pong connection stores a bounded number of steps per second, exact bytes', async (t) => {
  const store = new EventStore({ maxDataStepsPerFlowPerSec: 10, burstGapMs: -1 });
  const unsubscribe = subscribeAll(store.ingest);
  t.after(unsubscribe);
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const port = host.listeners[0].port as number;
  // 300 round trips, each waiting for its echo: 600 separate data events on one flow.
  const client = await openClient(t, port);
  const pieces = Array.from({ length: 300 }, (_, i) => `line ${i}\n`);
  let expected = 0;
  for (const piece of pieces) {
    client.socket.write(piece);
    expected += piece.length;
    await client.waitFor((r) => r.length >= expected, `echo of ${piece.trim()}`);
  }
  client.socket.end();
  await client.ended;
  assert.equal(client.received().toString(), pieces.join(''));
  const flow = [...store.flows.values()].find((f) => f.role === 'server' && f.service === 'echo');
  assert.ok(flow, 'the echo connection is in the store');
  const total = Buffer.byteLength(pieces.join(''));
  assert.equal(flow.bytesIn, total);
  assert.equal(flow.bytesOut, total);
  const steps = flow.events.filter((e) => e.type === 'data-in' || e.type === 'data-out');
  const summed = (type: string) =>
    steps.filter((e) => e.type === type).reduce((n, e) => n + (e.bytes ?? 0), 0);
  assert.equal(summed('data-in'), total, 'folded steps keep every byte');
  assert.equal(summed('data-out'), total);
  // The connection lasted at most a couple of seconds: at most 10 steps per second each.
  const seconds = Math.ceil(((flow.closedAt ?? flow.lastAt) - flow.openedAt) / 1000) + 1;
  assert.ok(steps.length <= 10 * seconds + 2, `${steps.length} steps stored for ${seconds} s`);
});
