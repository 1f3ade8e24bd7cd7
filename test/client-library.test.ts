// The client library against real servers: connect() collecting `received`, its inputs and
// limits, and udpRequest() retries and failures.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { Readable } from 'node:stream';
import { type TestContext, test } from 'node:test';
import { connect, isWirecatError, udpRequest } from '../src/index.js';
import { portOf, startHost, waitFor } from './helpers.js';

/** A UDP peer on 127.0.0.1:0 that answers with `answer(n)` (n = datagram number from 1). */
async function udpPeer(
  t: TestContext,
  answer: (n: number, msg: Buffer) => Buffer | undefined,
): Promise<{ port: number; count: () => number }> {
  const socket = dgram.createSocket('udp4');
  let n = 0;
  socket.on('message', (msg, rinfo) => {
    const reply = answer(++n, msg);
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  t.after(() => socket.close());
  return { port: socket.address().port, count: () => n };
}

test('connect() collects what the server sends into `received`', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0', 'daytime=tcp://127.0.0.1:0']);
  const echo = `tcp://127.0.0.1:${portOf(host, 'echo')}`;

  const fromString = await connect(echo, { input: 'hello\n' });
  assert.equal(fromString.received?.toString(), 'hello\n');
  assert.equal(fromString.bytesSent, 6);
  assert.equal(fromString.bytesReceived, 6);
  assert.equal(fromString.closedFirstBy, 'us');

  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  assert.deepEqual((await connect(echo, { input: bytes })).received, bytes);

  const stream = Readable.from([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]);
  assert.equal((await connect(echo, { input: stream })).received?.toString(), 'abc');

  // No input means half-close at once; with noHalfClose the server closes first.
  const daytime = { transport: 'tcp' as const, host: '127.0.0.1', port: portOf(host, 'daytime') };
  assert.equal((await connect(daytime)).closedFirstBy, 'us');
  const day = await connect(daytime, { noHalfClose: true });
  assert.match(day.received?.toString() ?? '', /\d{4}\r\n$/);
  assert.equal(day.closedFirstBy, 'peer');
  assert.equal(day.bytesSent, 0);
});

test('connect() maxCollectBytes: a larger reply fails with WIRECAT_BUFFER_LIMIT', async (t) => {
  const host = await startHost(t, ['chargen=tcp://127.0.0.1:0']);
  await assert.rejects(
    connect(`tcp://127.0.0.1:${portOf(host, 'chargen')}`, { maxCollectBytes: 10_000 }),
    (err) => isWirecatError(err, 'WIRECAT_BUFFER_LIMIT') && /10000 bytes/.test(err.message),
  );
  // The endless stream ended: the server saw us go.
  await waitFor(() => host.stats.connectionsOpen === 0, 'the connection to close');
  assert.ok(host.stats.bytesOut >= 10_000);
});

test('connect() failures: refused, idle timeout, aborted', async (t) => {
  // Accepts, says nothing, and does not answer our FIN.
  const server = net.createServer({ allowHalfOpen: true }, () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  t.after(() => server.close());
  const sockets: net.Socket[] = [];
  server.on('connection', (s) => sockets.push(s));
  t.after(() => {
    for (const s of sockets) s.destroy();
  });

  await assert.rejects(connect(`tcp://127.0.0.1:${port}`, { idleTimeoutMs: 200 }), (err) =>
    isWirecatError(err, 'WIRECAT_IDLE_TIMEOUT'),
  );
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 100);
  await assert.rejects(connect(`tcp://127.0.0.1:${port}`, { signal: abort.signal }), (err) =>
    isWirecatError(err, 'WIRECAT_ABORTED'),
  );

  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const free = (closed.address() as net.AddressInfo).port;
  await new Promise((r) => closed.close(r));
  await assert.rejects(connect(`tcp://127.0.0.1:${free}`), (err) =>
    isWirecatError(err, 'WIRECAT_CONNECT_REFUSED'),
  );
});

test('udpRequest() resends when a datagram goes unanswered', async (t) => {
  // Answers only the second datagram it gets (the first "was lost").
  const peer = await udpPeer(t, (n, msg) => (n === 2 ? Buffer.from(`re:${msg}`) : undefined));
  const reply = await udpRequest(`udp://127.0.0.1:${peer.port}`, 'q', {
    timeoutMs: 150,
    retries: 2,
  });
  assert.equal(reply.toString(), 're:q');
  assert.equal(peer.count(), 2);
});

test('udpRequest() no reply after every retry: WIRECAT_NO_REPLY; refused: WIRECAT_CONNECT_REFUSED', async (t) => {
  const silent = await udpPeer(t, () => undefined);
  await assert.rejects(
    udpRequest(`udp://127.0.0.1:${silent.port}`, 'q', { timeoutMs: 100, retries: 3 }),
    (err) => isWirecatError(err, 'WIRECAT_NO_REPLY') && /after 4 tries/.test(err.message),
  );
  assert.equal(silent.count(), 4);

  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const free = socket.address().port;
  await new Promise<void>((r) => socket.close(() => r()));
  await assert.rejects(udpRequest(`udp://127.0.0.1:${free}`, 'q', { timeoutMs: 2000 }), (err) =>
    isWirecatError(err, 'WIRECAT_CONNECT_REFUSED'),
  );

  await assert.rejects(udpRequest('tcp://127.0.0.1:7', 'q'), (err) =>
    isWirecatError(err, 'WIRECAT_BAD_USAGE'),
  );
});
