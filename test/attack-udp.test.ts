// Attack: UDP abuse. Forged datagrams that start a loop between two wirecat processes whose
// ports neither knows (echo against every other UDP service), datagrams from privileged
// source ports to every UDP service, and the amplification factor of every UDP service for
// requests from 0 bytes to the largest datagram. The loop must end within LOOP_STREAK round
// trips; no reply may be larger than max(request, maxDatagramReply).

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { EventStore } from '../src/observe/store.js';
import { LOOP_STREAK } from '../src/server/udp-guard.js';
import { figure, serveChild, sleep } from './attack-helpers.js';
import { datagram, portOf, requirePeer, spoof, startHost, waitFor } from './helpers.js';

const UDP_SERVICES = ['echo', 'chargen', 'qotd', 'daytime', 'time', 'reverse', 'ack', 'stamp'];

/** `wirecat serve` with a dashboard on a free port, so /metrics can be read. */
async function serveWithMetrics(t: Parameters<typeof serveChild>[0], specs: string[]) {
  const served = await serveChild(t, [...specs, '--dashboard=127.0.0.1:0']);
  const url = /dashboard at (http:\/\/127\.0\.0\.1:\d+)\//.exec(served.errors())?.[1];
  assert.ok(url, `no dashboard address in: ${served.errors()}`);
  return { ...served, metrics: () => readMetrics(url) };
}

/** The sum of a metric's samples whose labels include every `match` (e.g. 'service="echo"'). */
async function readMetrics(url: string) {
  const text = await (await fetch(`${url}/metrics`)).text();
  return (name: string, ...match: string[]): number => {
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      if (match.every((m) => line.includes(m))) sum += Number(line.slice(line.lastIndexOf(' ')));
    }
    return sum;
  };
}

async function sentDatagrams(served: { metrics: () => ReturnType<typeof readMetrics> }) {
  return (await served.metrics())('wirecat_sent_datagrams_total');
}

test('forged loops between two wirecat processes (echo against every UDP service) end within LOOP_STREAK round trips', async (t) => {
  if (!requirePeer(t, 'python3')) return;
  // Port 0: neither process can know the other's ports, so only the loop detector can help.
  const a = await serveWithMetrics(t, ['echo=udp://127.0.0.1:0']);
  const b = await serveWithMetrics(
    t,
    UDP_SERVICES.map((s) => `${s}=udp://127.0.0.1:0`),
  );
  const echoPort = a.port('echo', 'udp');
  for (const service of UDP_SERVICES) {
    // Three datagrams at once: several loops in flight on one pair must all be seen.
    const sent = await spoof(
      ['127.0.0.1', echoPort],
      ['127.0.0.1', b.port(service, 'udp')],
      'loop?',
      3,
    );
    if (sent !== 'sent') return t.skip(`cannot forge a datagram (raw sockets need root): ${sent}`);
  }
  await sleep(1000);
  const first = (await sentDatagrams(a)) + (await sentDatagrams(b));
  await sleep(500);
  const second = (await sentDatagrams(a)) + (await sentDatagrams(b));
  assert.equal(second, first, `still looping: ${second - first} more datagrams in 500 ms`);
  // Each pair: at most LOOP_STREAK + 1 round trips per forged datagram (3 per pair).
  const bound = UDP_SERVICES.length * 3 * 2 * (LOOP_STREAK + 2);
  assert.ok(first <= bound, `${first} datagrams exchanged, over the bound ${bound}`);
  const drops = (await b.metrics())('wirecat_udp_guard_drops_total', 'reason="loop"');
  const dropsA = (await a.metrics())('wirecat_udp_guard_drops_total', 'reason="loop"');
  assert.ok(drops + dropsA >= UDP_SERVICES.length, `only ${drops + dropsA} loops detected`);
  figure(
    t,
    `forged loops: ${UDP_SERVICES.length} pairs x 3 datagrams -> ${first} datagrams in all, then none (was ~14 000/s for ever before the loop detector); ${drops + dropsA} loop drops`,
  );
});

test('a client that repeats the same request is not taken for a loop unless it answers at once, every time', async (t) => {
  const host = await startHost(t, ['echo=udp://127.0.0.1:0']);
  const port = portOf(host, 'echo', 'udp');
  const socket = dgram.createSocket('udp4');
  t.after(() => socket.close());
  let replies = 0;
  socket.on('message', () => replies++);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  // A retrying client: the same payload from the same port, 150 ms apart (past the window).
  for (let i = 0; i < LOOP_STREAK + 4; i++) {
    socket.send('same', port, '127.0.0.1');
    await sleep(150);
  }
  assert.equal(replies, LOOP_STREAK + 4);
  assert.equal(host.stats.udpDropped.loop, 0);
  // One that bounces our reply straight back, like an echo server would: cut at the streak.
  replies = 0;
  const bounce = () => socket.send('same', port, '127.0.0.1');
  socket.on('message', bounce);
  bounce();
  await sleep(500);
  socket.off('message', bounce);
  assert.equal(host.stats.udpDropped.loop, 1);
  assert.ok(replies <= LOOP_STREAK + 1, `${replies} replies to a bouncing peer`);
});

test('no UDP service answers a privileged source port', async (t) => {
  const host = await startHost(
    t,
    UDP_SERVICES.map((s) => `${s}=udp://127.0.0.1:0`),
  );
  const socket = dgram.createSocket('udp4');
  const bound = await new Promise<boolean>((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind({ port: 1019, address: '127.0.0.1', exclusive: true }, () => resolve(true));
  });
  t.after(() => socket.close());
  if (!bound) return t.skip('cannot bind port 1019 (needs root, or it is taken)');
  let replies = 0;
  socket.on('message', () => replies++);
  for (const service of UDP_SERVICES) socket.send('x', portOf(host, service, 'udp'), '127.0.0.1');
  await waitFor(
    () => host.stats.udpDropped['privileged-port'] === UDP_SERVICES.length,
    'every datagram to be dropped',
  );
  await sleep(200);
  assert.equal(replies, 0);
  assert.equal(host.stats.datagramsOut, 0);
});

test('amplification: no UDP reply is larger than max(request, maxDatagramReply), from 0 bytes to 65 507', async (t) => {
  const host = await startHost(
    t,
    UDP_SERVICES.map((s) => `${s}=udp://127.0.0.1:0`),
  );
  const cap = host.limits.maxDatagramReply;
  let worst = { factor: 0, service: '', size: 0 };
  const refused: string[] = [];
  for (const service of UDP_SERVICES) {
    const port = portOf(host, service, 'udp');
    for (const size of [0, 1, 64, 511, 512, 1400, 65_507]) {
      const tooLarge = host.stats.udpDropped['reply-too-large'];
      const reply = await datagram(port, Buffer.alloc(size, 0x41), { timeoutMs: 1000 });
      if (reply === undefined) {
        // The documented refusal: stamp's answer is 27 bytes longer than the request.
        assert.equal(
          host.stats.udpDropped['reply-too-large'],
          tooLarge + 1,
          `${service}, ${size} B`,
        );
        refused.push(`${service}/${size}`);
        continue;
      }
      assert.ok(
        reply.length <= Math.max(size, cap),
        `${service}: ${reply.length} bytes for a ${size}-byte request`,
      );
      // On the wire a datagram has at least 28 bytes of headers (IPv4 + UDP).
      const factor = (reply.length + 28) / (size + 28);
      if (factor > worst.factor) worst = { factor, service, size };
    }
  }
  assert.ok(worst.factor <= (cap + 28) / 28);
  figure(
    t,
    `amplification: worst ${worst.factor.toFixed(1)}x on the wire (${worst.service}, ${worst.size}-byte request); every reply <= max(request, ${cap}); dropped as too large: ${refused.join(' ')}`,
  );
});

test('UDP from thousands of source ports with nobody watching: the dashboard store stays within maxFlows', async (t) => {
  const store = new EventStore({ maxFlows: 200 });
  t.after(store.subscribe());
  const host = await startHost(t, ['echo=udp://127.0.0.1:0']);
  const port = portOf(host, 'echo', 'udp');
  // Each socket is a new peer (address:port) — what a scan or forged sources look like.
  const peers = 2_000;
  for (let i = 0; i < peers; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, j) => datagram(port, `p${i + j}`, { timeoutMs: 2000 })),
    );
  }
  assert.equal(host.stats.datagramsIn, peers);
  assert.ok(store.flows.size <= 200, `${store.flows.size} flows kept, limit 200`);
  figure(t, `store: ${peers} UDP peers, no viewer: ${store.flows.size} flows kept (maxFlows 200)`);
});
