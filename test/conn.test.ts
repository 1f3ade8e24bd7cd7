// Conn, the transport's stream connection: byte counts, the socket events it publishes on
// diagnostics_channel (half-close each way), a failing service costing only its own
// connection, the maxBufferedBytes cut for a service that ignores backpressure, and an abort
// with reset that must close the socket whatever state its FIN is in.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Conn,
  type ServiceDefinition,
  type SocketEvent,
  type StreamHandler,
  subscribeAll,
} from '../src/index.js';
import { Conn as ConnClass } from '../src/transport/conn.js';
import { dialStream } from '../src/transport/dial.js';
import { parseEndpoint } from '../src/transport/endpoint.js';
import { exchange, openClient, portOf, startHost, waitFor } from './helpers.js';

/** Record every event of `service` while the test runs. */
function recordEvents(t: { after: (fn: () => void) => void }, service: string): SocketEvent[] {
  const events: SocketEvent[] = [];
  const stop = subscribeAll((e) => {
    if (e.service === service) events.push({ ...e, data: undefined });
  });
  t.after(stop);
  return events;
}

/** The event types of connection `id`, with repeats of one type in a row folded. */
function sequence(events: SocketEvent[], id: number): string[] {
  const types = events.filter((e) => e.id === id).map((e) => e.type);
  return types.filter((type, i) => type !== types[i - 1]);
}

/** A throwaway service for tests: `open` is its openStream. */
function testService(
  name: string,
  open: (conn: Conn) => StreamHandler,
  needsSocketStream = false,
): ServiceDefinition {
  return {
    name,
    summary: `test service ${name}`,
    spec: 'test',
    defaultPort: 0,
    udp: false,
    create: () => ({ name, needsSocketStream, openStream: open }),
  };
}

test('one echo exchange publishes accept, data-in, data-out, half-close-in, half-close-out, close', async (t) => {
  const events = recordEvents(t, 'echo');
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const reply = await exchange(portOf(host, 'echo'), 'hello\n');
  assert.equal(reply.toString(), 'hello\n');
  await waitFor(() => events.some((e) => e.type === 'close'), 'the close event');
  const accept = events.find((e) => e.type === 'accept');
  assert.ok(accept && accept.id > 0);
  assert.deepEqual(sequence(events, accept.id), [
    'accept',
    'data-in',
    'data-out',
    'half-close-in',
    'half-close-out',
    'close',
  ]);
  const close = events.find((e) => e.type === 'close');
  assert.equal(close?.bytes, 12, 'close reports bytes in + out');
  assert.equal(close?.reason, undefined, 'a clean close has no reason');
  assert.equal(accept.transport, 'tcp');
  assert.match(accept.remote ?? '', /^127\.0\.0\.1:\d+$/);
  assert.equal(accept.local, host.listeners[0].address.replace('tcp://', ''));
});

test('when the server half-closes first the order is half-close-out, then half-close-in', async (t) => {
  const events = recordEvents(t, 'daytime');
  const host = await startHost(t, ['daytime=tcp://127.0.0.1:0']);
  const client = await openClient(t, portOf(host, 'daytime'));
  await client.ended; // the server's FIN, while ours is still open
  await waitFor(() => events.some((e) => e.type === 'half-close-out'), 'half-close-out');
  assert.ok(!events.some((e) => e.type === 'half-close-in'), 'we have not half-closed yet');
  client.socket.end();
  await waitFor(() => events.some((e) => e.type === 'close'), 'the close event');
  const id = events.find((e) => e.type === 'accept')?.id ?? -1;
  assert.deepEqual(sequence(events, id), [
    'accept',
    'data-out',
    'half-close-out',
    'half-close-in',
    'close',
  ]);
});

for (const needsSocketStream of [false, true]) {
  const path = needsSocketStream ? 'data events' : 'shared read buffer';
  test(`bytes are counted in and out on each connection (${path})`, async (t) => {
    const counts: [number, number][] = [];
    // Answers every chunk with twice its bytes, to tell in from out.
    const doubler = testService(
      'doubler',
      () => ({
        data: (conn, chunk) => {
          conn.write(Buffer.concat([chunk, chunk]));
        },
        close: (conn) => {
          counts.push([conn.bytesIn, conn.bytesOut]);
        },
      }),
      needsSocketStream,
    );
    const host = await startHost(t, [{ service: doubler, endpoint: 'tcp://127.0.0.1:0' }]);
    const port = host.listeners[0].port as number;
    const sent = Buffer.alloc(300_000, 'q');
    const reply = await exchange(port, [sent, 'tail'], { timeoutMs: 10_000 });
    assert.equal(reply.length, 2 * (sent.length + 4));
    await waitFor(() => counts.length === 1, 'the connection to close');
    assert.deepEqual(counts[0], [sent.length + 4, 2 * (sent.length + 4)]);
    assert.equal(host.stats.bytesIn, sent.length + 4);
    assert.equal(host.stats.bytesOut, 2 * (sent.length + 4));
  });
}

test('a service that throws costs only its own connection (WIRECAT_SERVICE_FAILED)', async (t) => {
  const events = recordEvents(t, 'fragile');
  // Echoes, but throws on a line saying where to throw: in data, end, drain or close.
  const fragile = testService('fragile', () => {
    let armed = '';
    return {
      data(conn, chunk) {
        const text = chunk.toString();
        if (text === 'throw in data') throw new Error('bad input');
        if (text.startsWith('throw in')) armed = text;
        conn.write(conn.keep(chunk));
      },
      end(conn) {
        if (armed === 'throw in end') throw new Error('bad end');
        conn.end();
      },
      close() {
        if (armed === 'throw in close') throw new Error('bad close');
      },
    };
  });
  const host = await startHost(t, [{ service: fragile, endpoint: 'tcp://127.0.0.1:0' }]);
  const port = host.listeners[0].port as number;
  const bystander = await openClient(t, port);
  bystander.socket.write('before');
  await bystander.waitFor((b) => b.toString() === 'before', 'the first echo');

  for (const where of ['data', 'end', 'close']) {
    const victim = await openClient(t, port);
    victim.socket.write(`throw in ${where}`);
    if (where !== 'data') await victim.waitFor((b) => b.length > 0, 'the echo');
    victim.socket.end();
    await victim.closed;
  }
  await waitFor(() => host.stats.connectionsOpen === 1, 'the victims to be released');
  const failures = events.filter((e) => e.type === 'error');
  assert.deepEqual(
    failures.map((e) => [e.reason, e.message]),
    [
      ['WIRECAT_SERVICE_FAILED', 'the fragile service failed: bad input'],
      ['WIRECAT_SERVICE_FAILED', 'the fragile service failed: bad end'],
      ['WIRECAT_SERVICE_FAILED', 'the fragile service failed: bad close'],
    ],
  );
  const closes = events.filter((e) => e.type === 'close').map((e) => e.reason);
  assert.deepEqual(closes.slice(0, 2), ['WIRECAT_SERVICE_FAILED', 'WIRECAT_SERVICE_FAILED']);

  bystander.socket.end('after');
  assert.equal((await bystander.ended).toString(), 'beforeafter');
});

test('a service whose openStream throws costs only that connection', async (t) => {
  let n = 0;
  const picky = testService('picky', () => {
    if (++n === 1) throw new Error('cannot open');
    return {};
  });
  const host = await startHost(t, [{ service: picky, endpoint: 'tcp://127.0.0.1:0' }]);
  const port = host.listeners[0].port as number;
  const first = await openClient(t, port);
  await first.ended; // cut by the server
  await waitFor(() => host.stats.connectionsOpen === 0, 'the slot to be released');
  const second = await openClient(t, port);
  second.socket.end();
  await second.ended;
});

test('maxBufferedBytes cuts a connection whose service ignores write() returning false', async (t) => {
  const events = recordEvents(t, 'firehose');
  const chunk = Buffer.alloc(65_536, 'f');
  const timers = new Set<NodeJS.Timeout>();
  t.after(() => {
    for (const timer of timers) clearInterval(timer);
  });
  // Writes 64 KiB every millisecond whatever write() says: a buggy service.
  const firehose = testService('firehose', (conn) => {
    const timer = setInterval(() => conn.write(chunk), 1);
    timers.add(timer);
    return { close: () => clearInterval(timer) };
  });
  const limit = 512 * 1024;
  const host = await startHost(t, [{ service: firehose, endpoint: 'tcp://127.0.0.1:0' }], {
    limits: { maxBufferedBytes: limit },
  });
  const client = await openClient(t, host.listeners[0].port as number);
  client.socket.pause(); // never read
  await waitFor(() => host.stats.connectionsOpen === 0, 'the connection to be cut', 20_000);
  const hit = events.find((e) => e.type === 'limit-hit');
  assert.equal(hit?.reason, 'WIRECAT_BUFFER_LIMIT');
  assert.equal(hit?.message, 'maxBufferedBytes');
  const close = events.find((e) => e.type === 'close');
  assert.equal(close?.reason, 'WIRECAT_BUFFER_LIMIT');
  const error = events.find((e) => e.type === 'error');
  assert.match(error?.message ?? '', /peer is not reading: over 524288 bytes unsent/);
});

test('services that honour backpressure are never cut, even with maxBufferedBytes below one write', async (t) => {
  const events = recordEvents(t, 'chargen');
  // chargen writes about 63 KiB at a time, echo up to a whole 64 KiB read.
  const host = await startHost(t, ['chargen=tcp://127.0.0.1:0', 'echo=tcp://127.0.0.1:0'], {
    limits: { maxBufferedBytes: 16_384 },
  });
  const chargen = await openClient(t, portOf(host, 'chargen'));
  chargen.socket.pause(); // let every buffer fill up, then read on
  await new Promise((r) => setTimeout(r, 300));
  chargen.socket.resume();
  await chargen.waitFor((b) => b.length >= 8 * 1_048_576, '8 MiB of chargen', 20_000);
  assert.ok(!events.some((e) => e.type === 'limit-hit'), 'chargen was cut');

  const echo = await openClient(t, portOf(host, 'echo'));
  echo.socket.pause();
  const big = Buffer.alloc(8 * 1_048_576, 'e');
  echo.socket.end(big);
  await new Promise((r) => setTimeout(r, 300));
  echo.socket.resume();
  assert.equal((await echo.ended).length, big.length);
});

test('a dialled socket with Conn.sharedReads reads into the shared buffer, from start() on', async (t) => {
  const host = await startHost(t, ['qotd=tcp://127.0.0.1:0'], { quotes: ['Shared.'] });
  const endpoint = parseEndpoint(`tcp://127.0.0.1:${portOf(host, 'qotd')}`);
  const socket = await dialStream(endpoint, 2000, undefined, ConnClass.sharedReads);
  t.after(() => socket.destroy());
  assert.ok(socket.isPaused(), 'the socket must wait for its owner before reading');
  const conn = ConnClass.wrapBorrowed(socket, 'tcp', { service: 'test' });
  await new Promise((resolve) => setTimeout(resolve, 100)); // the reply waits, unread
  assert.equal(conn.bytesIn, 0);
  const chunks: { buffer: ArrayBufferLike; kept: Buffer }[] = [];
  const ended = new Promise<void>((resolve) => {
    conn.start({
      data: (c, chunk) => chunks.push({ buffer: chunk.buffer, kept: c.keep(chunk) }),
      end: (c) => {
        c.end();
        resolve();
      },
    });
  });
  await ended;
  assert.equal(Buffer.concat(chunks.map((c) => c.kept)).toString(), 'Shared.\r\n');
  assert.ok(conn.readsBorrowed);
  const shared = ConnClass.sharedReads.buffer as Uint8Array;
  assert.equal(chunks[0].buffer, shared.buffer, 'not the shared buffer');
  assert.notEqual(chunks[0].kept.buffer, chunks[0].buffer, 'keep() must copy a borrowed chunk');
});

test('abort with reset right after end() still closes the socket (no leaked handle)', async (t) => {
  // end() with every byte already in the kernel queues our FIN; libuv refuses a RST in that
  // window (EINVAL), and a bare resetAndDestroy() then leaves the handle open for good.
  const events = recordEvents(t, 'cut');
  const cut = testService('cut', () => ({
    data(conn) {
      conn.end('bye\n');
      conn.abort('WIRECAT_TEST_CUT', undefined, true);
    },
  }));
  const host = await startHost(t, [{ service: cut, endpoint: 'tcp://127.0.0.1:0' }]);
  const client = await openClient(t, host.listeners[0].port as number);
  client.socket.write('go');
  await Promise.race([client.ended, client.closed]); // a FIN or a RST, either is fine
  await waitFor(() => host.stats.connectionsOpen === 0, 'the server side to close');
  const close = events.find((e) => e.type === 'close');
  assert.equal(close?.reason, 'WIRECAT_TEST_CUT');
  assert.deepEqual(
    events.filter((e) => e.type === 'error').map((e) => e.reason),
    [],
    'the reset failed',
  );
});
