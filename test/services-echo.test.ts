// echo (RFC 862) over TCP (IPv4 and IPv6), Unix and UDP, with real sockets: exact bytes back.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { datagram, exchange, openClient, portOf, startHost, tempDir } from './helpers.js';

/** Every byte value, so nothing is lost to text decoding. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

test('echo over TCP returns the exact bytes, split across many writes', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const pieces = ['he', 'll', 'o\n', Buffer.from([0, 255, 13, 10]), ALL_BYTES];
  const reply = await exchange(portOf(host, 'echo'), pieces);
  assert.deepEqual(reply, Buffer.concat(pieces.map((p) => Buffer.from(p))));
});

test('echo over TCP IPv6 and a Unix socket', async (t) => {
  const path = join(tempDir(t), 'echo.sock');
  const host = await startHost(t, ['echo=tcp://[::1]:0', `echo=unix:${path}`]);
  const six = await exchange({ host: '::1', port: portOf(host, 'echo') }, ALL_BYTES);
  assert.deepEqual(six, ALL_BYTES);
  assert.deepEqual(await exchange({ path }, ALL_BYTES), ALL_BYTES);
});

test('echo answers as it goes, without waiting for a half-close', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const client = await openClient(t, portOf(host, 'echo'));
  client.socket.write('first');
  await client.waitFor((b) => b.toString() === 'first', 'the first echo');
  client.socket.write('second');
  await client.waitFor((b) => b.toString() === 'firstsecond', 'the second echo');
  client.socket.end();
  assert.equal((await client.ended).toString(), 'firstsecond');
});

test('echo returns 8 MiB intact while the client sends and reads at once', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const big = Buffer.alloc(8 * 1_048_576);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 12)) & 0xff;
  const reply = await exchange(portOf(host, 'echo'), big, { timeoutMs: 30_000 });
  assert.equal(reply.length, big.length);
  assert.ok(reply.equals(big), 'the bytes came back in order');
  assert.equal(host.stats.bytesIn, big.length);
  assert.equal(host.stats.bytesOut, big.length);
});

test('echo over UDP answers with the same datagram, IPv4 and IPv6', async (t) => {
  const host = await startHost(t, ['echo=udp://127.0.0.1:0', 'echo=udp://[::1]:0']);
  const [four, six] = host.listeners.map((l) => l.port as number);
  assert.deepEqual(await datagram(four, ALL_BYTES), ALL_BYTES);
  assert.deepEqual(await datagram(six, 'ping six', { host: '::1' }), Buffer.from('ping six'));
  assert.equal(host.stats.datagramsIn, 2);
  assert.equal(host.stats.datagramsOut, 2);
});
