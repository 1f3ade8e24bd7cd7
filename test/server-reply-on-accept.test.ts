// One-shot services (qotd, daytime, time) answered straight from accept, without a Conn,
// while no one watches connection events: the limits, the linger, the counters and graceful
// close must hold exactly as on the Conn path, and watching must bring the events back.

import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { channels, type SocketEvent } from '../src/index.js';
import { ONE_SHOT_LINGER_MS } from '../src/services/one-shot.js';
import { LINGER_SWEEP_MS } from '../src/transport/linger.js';
import { openClient, portOf, startHost, waitFor } from './helpers.js';

const FIXED = () => new Date(Date.UTC(2017, 11, 29, 19, 14, 15));
const LINE = 'Fri Dec 29 19:14:15 2017\r\n';

/** A client that sends `input`, reads the reply, and keeps its own side open. */
async function holdOpen(t: Parameters<typeof openClient>[0], port: number, input = '') {
  const client = await openClient(t, port);
  if (input) client.socket.write(input);
  const reply = await client.ended;
  return { client, reply: reply.toString() };
}

test('answered connections count to maxConnections until the peer closes or the linger ends', async (t) => {
  const host = await startHost(t, ['daytime=tcp://127.0.0.1:0'], {
    now: FIXED,
    limits: { maxConnections: 2 },
  });
  const port = portOf(host, 'daytime');
  const started = Date.now();
  const held = [await holdOpen(t, port, 'ignored\n'), await holdOpen(t, port)];
  assert.deepEqual(
    held.map((h) => h.reply),
    [LINE, LINE],
  );
  await waitFor(() => host.stats.bytesIn === 8, 'the ignored input to be counted');
  assert.equal(host.stats.connectionsOpen, 2);
  assert.equal(host.stats.bytesOut, 2 * LINE.length);

  const refused = await openClient(t, port);
  assert.equal((await refused.ended).length, 0, 'a connection over the limit got a reply');
  assert.equal(host.stats.refusedOverall, 1);

  await waitFor(() => host.stats.connectionsOpen === 0, 'the slots to be released', 5000);
  const heldFor = Date.now() - started;
  assert.ok(heldFor >= ONE_SHOT_LINGER_MS - 50, `cut after ${heldFor} ms, before the linger`);
  assert.ok(heldFor < ONE_SHOT_LINGER_MS + 4 * LINGER_SWEEP_MS + 1000, `cut after ${heldFor} ms`);
  assert.equal((await holdOpen(t, port)).reply, LINE);
});

test('a peer that sends and closes is released at once, not after the linger', async (t) => {
  const host = await startHost(t, ['qotd=tcp://127.0.0.1:0'], { quotes: ['Only this.'] });
  const client = await openClient(t, portOf(host, 'qotd'));
  const started = Date.now();
  client.socket.end(Buffer.alloc(100_000, 0x61)); // more than one read, then FIN
  assert.equal((await client.ended).toString(), 'Only this.\r\n');
  await client.closed;
  await waitFor(() => host.stats.connectionsOpen === 0, 'the slot to be released');
  assert.ok(Date.now() - started < ONE_SHOT_LINGER_MS, 'the peer FIN was not seen');
  assert.equal(host.stats.bytesIn, 100_000);
});

test('per-source limits count answered connections, from before counting began too', async (t) => {
  const host = await startHost(t, ['time=tcp://127.0.0.1:0'], {
    limits: { maxConnectionsPerSource: 2 },
  });
  const port = portOf(host, 'time');
  await holdOpen(t, port);
  await holdOpen(t, port);
  const third = await openClient(t, port);
  assert.equal((await third.ended).length, 0);
  assert.equal(host.stats.refusedPerSource, 1);
  const other = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
  t.after(() => other.destroy());
  const reply = await new Promise<Buffer>((resolve, reject) => {
    other.once('error', reject);
    other.once('data', resolve);
  });
  assert.equal(reply.length, 4, 'another source is served');
});

test('close() cuts answered peers that hold their side open after drainMs', async (t) => {
  const host = await startHost(t, ['daytime=tcp://127.0.0.1:0']);
  await holdOpen(t, portOf(host, 'daytime'));
  assert.equal(host.stats.connectionsOpen, 1);
  const started = Date.now();
  await host.close(100);
  await waitFor(() => host.stats.connectionsOpen === 0, 'the cut peer to be released', 500);
  assert.ok(Date.now() - started < ONE_SHOT_LINGER_MS, 'close() waited for the linger');
});

test('with a subscriber, a one-shot connection publishes its whole life', async (t) => {
  const seen: SocketEvent[] = [];
  const listener = (m: unknown) => seen.push(m as SocketEvent);
  for (const type of ['accept', 'data-out', 'close'] as const) {
    channels[type].subscribe(listener);
    t.after(() => channels[type].unsubscribe(listener));
  }
  const host = await startHost(t, ['daytime=tcp://127.0.0.1:0'], { now: FIXED });
  const client = await openClient(t, portOf(host, 'daytime'));
  assert.equal((await client.ended).toString(), LINE);
  client.socket.end();
  await waitFor(() => seen.some((e) => e.type === 'close'), 'the close event');
  assert.deepEqual(
    seen.filter((e) => e.service === 'daytime').map((e) => [e.type, e.bytes]),
    [
      ['accept', undefined],
      ['data-out', LINE.length],
      ['close', LINE.length],
    ],
  );
});
