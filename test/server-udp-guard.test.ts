// The UDP guard with real datagrams: no reply to privileged or service source ports, the
// per-source reply budget, the reply-size cap, per-address wildcard binds, and no loop
// between two wirecat hosts (CVE-1999-0103, "Loop DoS" CVE-2024-2169).

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import type { Host } from '../src/index.js';
import { datagram, portOf, requirePeer, spoof, startHost } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A UDP socket bound to address:port, or undefined when the bind fails (port taken, no root). */
async function bindUdp(
  t: { after(fn: () => void): void },
  port: number,
  address = '127.0.0.1',
): Promise<dgram.Socket | undefined> {
  const socket = dgram.createSocket('udp4');
  const ok = await new Promise<boolean>((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind({ port, address, exclusive: true }, () => resolve(true));
  });
  if (!ok) {
    socket.close();
    return undefined;
  }
  t.after(() => {
    try {
      socket.close();
    } catch {} // closed by the test already
  });
  return socket;
}

/** Replies `socket` receives within `ms` after sending `count` datagrams to port. */
async function burst(socket: dgram.Socket, port: number, count: number, ms = 300): Promise<number> {
  let replies = 0;
  const onMessage = () => replies++;
  socket.on('message', onMessage);
  for (let i = 0; i < count; i++) socket.send(`n${i}`, port, '127.0.0.1');
  await sleep(ms);
  socket.off('message', onMessage);
  return replies;
}

test('no reply to a privileged source port (< 1024)', async (t) => {
  const host = await startHost(t, ['echo=udp://127.0.0.1:0']);
  const port = portOf(host, 'echo', 'udp');
  let lowPort = 0;
  for (const candidate of [1000, 1001, 1002, 987]) {
    const s = await bindUdp(t, candidate);
    if (s) {
      s.close();
      lowPort = candidate;
      break;
    }
  }
  if (lowPort === 0) return t.skip('cannot bind a port below 1024 (needs root)');
  assert.equal(await datagram(port, 'hi', { bindPort: lowPort, timeoutMs: 300 }), undefined);
  assert.equal(host.stats.udpDropped['privileged-port'], 1);
  assert.equal(host.stats.datagramsOut, 0);
  // The same request from an ordinary port is answered.
  assert.equal((await datagram(port, 'hi'))?.toString(), 'hi');
});

test('no reply to a wirecat service port: the default chargen port and our own ports', async (t) => {
  const host = await startHost(t, ['echo=udp://127.0.0.1:0', 'time=udp://127.0.0.1:0']);
  const port = portOf(host, 'echo', 'udp');
  const chargenDefault = await bindUdp(t, 10019);
  if (chargenDefault) {
    assert.equal(await burst(chargenDefault, port, 1), 0, 'answered the default chargen port');
    assert.equal(host.stats.udpDropped['service-port'], 1);
  } else t.diagnostic('127.0.0.1:10019 is busy; checked only the host’s own ports');
  // A datagram "from" the host's time port (same port, another loopback address).
  const fromTime = await bindUdp(t, portOf(host, 'time', 'udp'), '127.0.0.2');
  assert.ok(fromTime, 'cannot bind 127.0.0.2');
  assert.equal(await burst(fromTime, port, 1), 0, 'answered a source port of its own');
  assert.equal(host.stats.udpDropped['service-port'], chargenDefault ? 2 : 1);
});

test('per-source reply budget (udpBudgetForLoopback): a burst gets exactly the budget, then more later', async (t) => {
  const host = await startHost(t, ['echo=udp://127.0.0.1:0'], {
    udpBudgetForLoopback: true,
    limits: { udpRepliesPerSourcePerSec: 5 },
  });
  const port = portOf(host, 'echo', 'udp');
  const client = await bindUdp(t, 0);
  assert.ok(client);
  assert.equal(await burst(client, port, 20), 5);
  assert.equal(host.stats.udpDropped.budget, 15);
  await sleep(1000); // the bucket refills at 5 per second
  assert.equal(await burst(client, port, 20), 5);
  assert.equal(host.stats.udpDropped.budget, 30);
  // Without the option, loopback sources are exempt.
  const exempt = await startHost(t, ['echo=udp://127.0.0.1:0'], {
    limits: { udpRepliesPerSourcePerSec: 5 },
  });
  assert.equal(await burst(client, portOf(exempt, 'echo', 'udp'), 20), 20);
});

test('reply cap: a reply larger than both the request and maxDatagramReply is dropped', async (t) => {
  const host = await startHost(t, ['chargen=udp://127.0.0.1:0', 'echo=udp://127.0.0.1:0'], {
    limits: { maxDatagramReply: 100 },
  });
  // chargen answers an empty datagram with 444 bytes: amplification, dropped.
  assert.equal(await datagram(portOf(host, 'chargen', 'udp'), '', { timeoutMs: 300 }), undefined);
  assert.equal(host.stats.udpDropped['reply-too-large'], 1);
  // echo's reply is as large as the request: allowed even above the cap.
  const big = Buffer.alloc(1000, 0x42);
  assert.deepEqual(await datagram(portOf(host, 'echo', 'udp'), big), big);
  assert.equal(host.stats.udpDropped['reply-too-large'], 1);
});

test('wildcard udp://0.0.0.0:0 binds each unicast address on one port', async (t) => {
  const host = await startHost(t, ['echo=udp://0.0.0.0:0']);
  assert.equal(host.listeners.length, 1);
  const [l] = host.listeners;
  assert.equal(l.transport, 'udp');
  assert.ok(l.exposed, 'a wildcard bind is reachable from the network');
  assert.match(l.address, /^udp:\/\/0\.0\.0\.0:\d+$/);
  const port = l.port as number;
  assert.ok(port > 0);
  assert.equal((await datagram(port, 'wild'))?.toString(), 'wild');
  // 127.0.0.2 is not an interface address: had we bound 0.0.0.0, this bind would fail.
  const other = await bindUdp(t, port, '127.0.0.2');
  assert.ok(other, 'the port is bound on 0.0.0.0, not per unicast address');
});

function udpTraffic(host: Host): number {
  return host.stats.datagramsIn + host.stats.datagramsOut;
}

test('two wirecat hosts (echo and chargen) cannot loop', async (t) => {
  if (!requirePeer(t, 'python3')) return;
  const echoHost = await startHost(t, ['echo=udp://127.0.0.1:0']);
  const chargenHost = await startHost(t, ['chargen=udp://127.0.0.1:0']);
  const echoPort = portOf(echoHost, 'echo', 'udp');
  const chargenPort = portOf(chargenHost, 'chargen', 'udp');
  // The attack: a datagram to echo that claims to come from chargen.
  const sent = await spoof(['127.0.0.1', chargenPort], ['127.0.0.1', echoPort], 'loop?');
  if (sent !== 'sent') return t.skip(`cannot forge a datagram (raw sockets need root): ${sent}`);
  await sleep(1000);
  const total = udpTraffic(echoHost) + udpTraffic(chargenHost);
  assert.equal(echoHost.stats.datagramsIn, 1, 'the forged datagram did not arrive');
  assert.ok(total <= 1, `the hosts exchanged ${total - 1} datagrams: a loop`);
  assert.equal(echoHost.stats.udpDropped['service-port'], 1);
});
