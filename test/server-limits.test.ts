// Host connection limits with real sockets: maxConnections, maxConnectionsPerSource (with
// IPv4-mapped IPv6 folded to one source), idleTimeoutMs, and backpressure / maxBufferedBytes.

import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import type { Host, SocketEvent } from '../src/index.js';
import { channels } from '../src/index.js';
import type { Conn } from '../src/transport/conn.js';
import { exchange, portOf, startHost, waitFor } from './helpers.js';

/** An open echo connection, proven accepted by one round trip. */
async function openEcho(
  t: { after(fn: () => void): void },
  port: number,
  host = '127.0.0.1',
  localAddress?: string,
) {
  const socket = net.connect({ host, port, localAddress, allowHalfOpen: true });
  t.after(() => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => socket.write('ping'));
    socket.once('data', (d) => {
      assert.equal(d.toString(), 'ping');
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

/** Connect and resolve with how the server treated us: 'closed' at once, or 'open'. */
function probe(port: number, host = '127.0.0.1', waitMs = 500): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('open');
    }, waitMs);
    const closed = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('closed');
    };
    socket.on('end', closed);
    socket.on('error', closed);
    socket.on('close', closed);
  });
}

function collectEvents(t: { after(fn: () => void): void }, type: 'limit-hit'): SocketEvent[] {
  const seen: SocketEvent[] = [];
  const listener = (m: unknown) => seen.push(m as SocketEvent);
  channels[type].subscribe(listener);
  t.after(() => channels[type].unsubscribe(listener));
  return seen;
}

/** The Host's open connections (private; read here to check per-connection buffers). */
function openConns(host: Host): Conn[] {
  return [...(host as unknown as { slots: { conns: Set<Conn> } }).slots.conns];
}

test('maxConnections: the connection over the limit is closed at once, counted, published; a slot frees on close', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0'], { limits: { maxConnections: 3 } });
  const port = portOf(host, 'echo');
  const hits = collectEvents(t, 'limit-hit');
  const clients = [];
  for (let i = 0; i < 3; i++) clients.push(await openEcho(t, port));
  assert.equal(host.stats.connectionsOpen, 3);

  assert.equal(await probe(port), 'closed');
  assert.equal(await probe(port), 'closed');
  assert.equal(host.stats.refusedOverall, 2);
  assert.equal(host.stats.refusedPerSource, 0);
  const refusals = hits.filter((e) => e.reason === 'maxConnections');
  assert.equal(refusals.length, 2);
  assert.equal(refusals[0].service, 'echo');
  assert.match(refusals[0].remote ?? '', /^127\.0\.0\.1:\d+$/);

  // The accepted ones still work, and once one closes a new connection is served.
  assert.equal(await probe(port), 'closed');
  clients[0].destroy();
  await waitFor(() => host.stats.connectionsOpen === 2, 'the slot to be released');
  assert.equal((await exchange(port, 'again')).toString(), 'again');
  assert.equal(host.stats.refusedOverall, 3); // the 'x' probe above was refused too
});

test('maxConnectionsPerSource: IPv4 and IPv4-mapped IPv6 count as one source', async (t) => {
  // One listener on 127.0.0.1 (peer seen as 127.0.0.1) and one dual-stack on :: (the same
  // peer seen as ::ffff:127.0.0.1): both must be charged to the same source.
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0', 'echo=tcp://[::]:0'], {
    limits: { maxConnectionsPerSource: 2 },
  });
  const [v4, dual] = host.listeners.map((l) => l.port as number);
  const hits = collectEvents(t, 'limit-hit');
  const a = await openEcho(t, v4);
  await openEcho(t, dual, '127.0.0.1');
  assert.equal(await probe(dual, '127.0.0.1'), 'closed');
  assert.equal(await probe(v4), 'closed');
  assert.equal(host.stats.refusedPerSource, 2);
  assert.equal(host.stats.refusedOverall, 0);
  assert.equal(hits.filter((e) => e.reason === 'maxConnectionsPerSource').length, 2);
  // ::1 is another source: still served.
  assert.equal((await exchange({ host: '::1', port: dual }, 'six')).toString(), 'six');

  a.destroy();
  await waitFor(() => host.stats.connectionsOpen === 1, 'the slot to be released');
  assert.equal((await exchange(dual, 'back')).toString(), 'back');
});

test('maxConnectionsPerSource: connections opened before counting starts are charged to their sources', async (t) => {
  // The Host only tracks sources once enough connections are open for one to be at its
  // limit: the ones already open must then be charged to their own sources, not dropped.
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0'], {
    limits: { maxConnectionsPerSource: 2 },
  });
  const port = portOf(host, 'echo');
  const fromOther = () => openEcho(t, port, '127.0.0.1', '127.0.0.2');
  const other = await fromOther();
  const mine = await openEcho(t, port);
  const second = await openEcho(t, port); // 1 from 127.0.0.1 so far: allowed
  assert.equal(await probe(port), 'closed'); // a third from 127.0.0.1
  assert.equal(host.stats.refusedPerSource, 1);
  await fromOther(); // 127.0.0.2 had one
  for (const s of [other, mine, second]) s.destroy();
  await waitFor(() => host.stats.connectionsOpen === 1, 'three slots to be released');
  const again = [await openEcho(t, port), await openEcho(t, port)];
  assert.equal(await probe(port), 'closed');
  assert.equal(host.stats.refusedPerSource, 2);
  for (const s of again) s.destroy();
});

test('idleTimeoutMs closes a connection on which nothing moves', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0'], { limits: { idleTimeoutMs: 200 } });
  const started = Date.now();
  const socket = await openEcho(t, portOf(host, 'echo'));
  const closed = await new Promise<number>((resolve) => {
    const timer = setTimeout(() => resolve(-1), 3000);
    const closed = () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    };
    socket.on('error', closed);
    socket.on('end', closed); // half-open capable socket: the server's FIN
    socket.on('close', closed);
  });
  assert.ok(closed >= 180, `closed after ${closed} ms, before the idle timeout`);
  assert.ok(closed < 2000, 'the quiet connection was never closed');
  await waitFor(() => host.stats.connectionsOpen === 0, 'the slot to be released');
});

test('backpressure: a client that never reads is no longer read from; others are served', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0'], {
    limits: { maxBufferedBytes: 256 * 1024 },
  });
  const port = portOf(host, 'echo');
  const hog = net.connect({ port, host: '127.0.0.1' });
  t.after(() => hog.destroy());
  hog.on('error', () => {});
  await new Promise((r) => hog.once('connect', r));
  hog.pause(); // never read: the echo piles up in the kernel, then in the server
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let written = 0;
  // Write until our own socket holds back 16 MiB (the server stopped reading), bounded. The
  // kernel's send buffer can still grow by up to tcp_wmem's 4 MiB while we wait below: a
  // backlog of only 4 MiB could drain into it and look as if it had never blocked.
  for (let i = 0; i < 2000 && hog.writableLength < 16 * 1_048_576; i++) {
    hog.write(chunk);
    written += chunk.length;
    if (i % 16 === 15) await new Promise((r) => setTimeout(r, 5));
  }
  // Two quiet windows in a row: one alone can be a server starved of CPU by other tests.
  let plateau = -1;
  let quiet = 0;
  for (let i = 0; i < 30 && plateau < 0; i++) {
    const before = host.stats.bytesIn;
    await new Promise((r) => setTimeout(r, 300));
    quiet = host.stats.bytesIn === before ? quiet + 1 : 0;
    if (quiet === 2) plateau = before;
  }
  assert.ok(plateau > 0, 'bytesIn never stopped growing');
  assert.ok(hog.writableLength > 0, 'the client writes never blocked');
  assert.ok(plateau < written, `server read all ${written} bytes: it never stopped reading`);
  const [conn] = openConns(host);
  assert.ok(!conn.isClosed, 'a slow reader is paused, not cut');
  assert.ok(
    conn.unsentBytes <= 256 * 1024 + chunk.length,
    `server holds ${conn.unsentBytes} unsent bytes`,
  );

  // Another client is served normally meanwhile.
  assert.equal((await exchange(port, 'fine')).toString(), 'fine');
  assert.equal(host.stats.bytesIn, plateau + 4, 'the hog was read from again');
});
