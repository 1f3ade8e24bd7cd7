// The dashboard's server and store without a browser: the SSE stream, its bounds (viewers,
// message size), the store's bounded history, the loopback Host check.

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { startDashboard } from '../src/dashboard/server.js';
import { EventStore } from '../src/observe/store.js';
import { exchange, portOf, startHost, waitFor } from './helpers.js';

/** Open /events and collect the parsed messages; closed when the test ends. */
function watch(t: { after(fn: () => void): void }, url: string) {
  const messages: Record<string, unknown>[] = [];
  const state = { status: 0, sizes: [] as number[] };
  const req = http.get(url, (res) => {
    state.status = res.statusCode ?? 0;
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (block.startsWith('data: ')) {
          state.sizes.push(block.length - 6);
          messages.push(JSON.parse(block.slice(6)));
        }
      }
    });
  });
  req.on('error', () => {});
  t.after(() => req.destroy());
  return { messages, state };
}

test('the SSE stream sends listeners, connections and the watched flow, coalesced', async (t) => {
  const store = new EventStore();
  t.after(store.subscribe());
  const dash = await startDashboard({
    store,
    endpoint: '127.0.0.1:0',
    limits: { tickMs: 50, maxViewers: 2 },
  });
  t.after(() => dash.close());
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const client = net.connect({ host: '127.0.0.1', port: portOf(host, 'echo') });
  t.after(() => client.destroy());
  await new Promise((resolve) => client.on('connect', resolve));
  await waitFor(() => store.flows.size === 1, 'the flow');
  const key = [...store.flows.keys()][0];

  const viewer = watch(t, `${dash.url}events?flow=${key}`);
  // 100 writes in a burst: the page gets a handful of messages, not 200 events one by one.
  for (let i = 0; i < 100; i++) client.write(`line ${i}\n`);
  await waitFor(() => store.flows.get(key)!.bytesOut >= 100 * 7, 'the echoes');
  await waitFor(() => viewer.messages.length >= 3, 'three updates');
  const first = viewer.messages[0] as {
    services: { service: string }[];
    connections: { key: string }[];
  };
  assert.equal(first.services[0].service, 'echo');
  assert.equal(first.connections[0].key, key);
  const flowEvents = viewer.messages.flatMap(
    (m) => (m.flow as { events: { type: string }[] } | undefined)?.events ?? [],
  );
  assert.equal(flowEvents[0].type, 'accept');
  assert.ok(flowEvents.some((e) => e.type === 'data-in'));
  assert.ok(viewer.messages.length < 50, `coalesced into ${viewer.messages.length} messages`);

  // The viewer bound: a third browser is turned away with a reason.
  const second = watch(t, `${dash.url}events`);
  await waitFor(() => second.state.status === 200, 'the second viewer');
  const third = await fetch(`${dash.url}events`);
  assert.equal(third.status, 503);
  assert.match(await third.text(), /too many viewers/);

  // DNS rebinding: a loopback dashboard answers only to loopback names.
  const status = await new Promise<number>((resolve, reject) => {
    http
      .get(dash.url, { headers: { host: 'attacker.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
  assert.equal(status, 403);
});

test('messages stay under maxMessageBytes by listing fewer connections', async (t) => {
  const store = new EventStore();
  t.after(store.subscribe());
  const dash = await startDashboard({
    store,
    endpoint: '127.0.0.1:0',
    limits: { tickMs: 50, maxMessageBytes: 3_000 },
  });
  t.after(() => dash.close());
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  for (let i = 0; i < 30; i++) await exchange(portOf(host, 'echo'), 'x');
  const viewer = watch(t, `${dash.url}events`);
  await waitFor(() => viewer.messages.length >= 1, 'an update');
  assert.ok(Math.max(...viewer.state.sizes) <= 3_000, `sizes ${viewer.state.sizes}`);
  const listed = (viewer.messages[0].connections as unknown[]).length;
  assert.ok(listed > 0 && listed < 30, `${listed} of 30 listed`);
});

test('history is bounded: per connection, in all, oldest closed forgotten first', async (t) => {
  const store = new EventStore({ maxEventsPerFlow: 10, maxFlows: 3, burstGapMs: -1 });
  t.after(store.subscribe());
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const port = portOf(host, 'echo');
  // Ping-pong, so each line is its own chunk each way: 40 data events.
  const client = net.connect({ host: '127.0.0.1', port });
  t.after(() => client.destroy());
  for (let i = 0; i < 20; i++) {
    client.write(`${i}\n`);
    await new Promise((resolve) => client.once('data', resolve));
  }
  client.end();
  await new Promise((resolve) => client.on('close', resolve));
  const [busy] = [...store.flows.values()];
  await waitFor(() => busy.state === 'closed', 'the close event');
  assert.equal(busy.events.length, 10);
  assert.equal(busy.forgotten, busy.seq - 10);
  assert.equal(busy.events.at(-1)?.type, 'close', 'the newest are kept');
  for (let i = 0; i < 4; i++) await exchange(port, 'x');
  assert.equal(store.flows.size, 3);
  assert.equal(store.flowsForgotten, 2);
  assert.ok(!store.flows.has(busy.key), 'the oldest went first');
  assert.equal(store.rows.get('echo|tcp')?.total, 5, 'counters never forget');
  assert.equal(store.rows.get('echo|tcp')?.bytesIn, 10 * 2 + 10 * 3 + 4);
});
