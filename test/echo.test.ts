// echo (RFC 862) over TCP, Unix and UDP, with real sockets.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { datagram, exchange, portOf, startHost, tempDir } from './helpers.js';

test('echo over TCP returns the exact bytes, split across many writes', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const pieces = ['he', 'll', 'o\n', Buffer.from([0, 255, 13, 10])];
  const reply = await exchange(portOf(host, 'echo'), pieces);
  assert.deepEqual(reply, Buffer.concat(pieces.map((p) => Buffer.from(p))));
});

test('echo over TCP IPv6 and a Unix socket', async (t) => {
  const path = join(tempDir(t), 'echo.sock');
  const host = await startHost(t, ['echo=tcp://[::1]:0', `echo=unix:${path}`]);
  assert.equal((await exchange({ host: '::1', port: portOf(host, 'echo') }, 'six\n')).toString(), 'six\n');
  assert.equal((await exchange({ path }, 'unix\n')).toString(), 'unix\n');
});

test('echo over UDP answers with the same datagram', async (t) => {
  const host = await startHost(t, ['echo=udp://127.0.0.1:0']);
  const reply = await datagram(portOf(host, 'echo', 'udp'), 'ping');
  assert.equal(reply?.toString(), 'ping');
});
