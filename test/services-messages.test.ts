// reverse, ack and stamp (wirecat's message services) over TCP, Unix and UDP: each message
// — a line, or what arrived before a half-close or a quiet flush delay — gets one answer.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { datagram, exchange, openClient, portOf, startHost, tempDir } from './helpers.js';

const PINNED = new Date(2017, 11, 29, 19, 14, 15);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('reverse: by character, keeping LF and CRLF, over TCP and Unix', async (t) => {
  const path = join(tempDir(t), 'reverse.sock');
  const host = await startHost(t, ['reverse=tcp://127.0.0.1:0', `reverse=unix:${path}`]);
  const send = 'héllo\nab🎉\r\n\r\nx\n';
  const want = 'olléh\n🎉ba\r\n\r\nx\n';
  assert.equal((await exchange(portOf(host, 'reverse'), send)).toString(), want);
  assert.equal((await exchange({ path }, send)).toString(), want);
});

test('reverse over UDP: one datagram is one message', async (t) => {
  const host = await startHost(t, ['reverse=udp://127.0.0.1:0', 'reverse=udp://[::1]:0']);
  const [four, six] = host.listeners.map((l) => l.port as number);
  assert.equal((await datagram(four, 'héllo\r\n'))?.toString(), 'olléh\r\n');
  assert.equal((await datagram(four, 'no ending'))?.toString(), 'gnidne on');
  assert.equal((await datagram(six, 'héllo\n', { host: '::1' }))?.toString(), 'olléh\n');
  const bytes = Buffer.from([0x41, 0xff, 0xc3, 0xa9, 0x00, 0x0a]);
  assert.deepEqual(await datagram(four, bytes), Buffer.from([0x00, 0xc3, 0xa9, 0xff, 0x41, 0x0a]));
});

test('reverse: a message with no newline is answered after the flush delay, no half-close', async (t) => {
  const host = await startHost(t, ['reverse=tcp://127.0.0.1:0'], { limits: { flushDelayMs: 300 } });
  const client = await openClient(t, portOf(host, 'reverse'));
  const started = Date.now();
  client.socket.write('Hello, world!');
  await client.waitFor((b) => b.length > 0, 'the flushed answer');
  const waited = Date.now() - started;
  assert.equal(client.received().toString(), '!dlrow ,olleH');
  assert.ok(waited >= 250, `answered after ${waited} ms, before the flush delay`);

  // The connection goes on; more bytes before the delay ends extend the message.
  client.socket.write('abc');
  await sleep(150);
  client.socket.write('def');
  await client.waitFor((b) => b.length > 13, 'the second answer');
  await sleep(100);
  assert.equal(client.received().toString(), '!dlrow ,olleHfedcba');
  client.socket.end('line\n');
  assert.equal((await client.ended).toString(), '!dlrow ,olleHfedcbaenil\n');
});

test('reverse: on half-close a message with no newline is answered at once', async (t) => {
  const host = await startHost(t, ['reverse=tcp://127.0.0.1:0'], {
    limits: { flushDelayMs: 30_000 },
  });
  const started = Date.now();
  const reply = await exchange(portOf(host, 'reverse'), 'Hello, world!', { timeoutMs: 3000 });
  assert.equal(reply.toString(), '!dlrow ,olleH');
  assert.ok(Date.now() - started < 3000);
});

test('ack: "message received" per line, ending as the message ended', async (t) => {
  const path = join(tempDir(t), 'ack.sock');
  const host = await startHost(
    t,
    ['ack=tcp://127.0.0.1:0', `ack=unix:${path}`, 'ack=udp://127.0.0.1:0'],
    { limits: { flushDelayMs: 200 } },
  );
  const want = 'message received\nmessage received\r\nmessage received\r\n';
  assert.equal((await exchange(portOf(host, 'ack'), 'one\ntwo\r\npartial')).toString(), want);
  assert.equal((await exchange({ path }, 'one\ntwo\r\npartial')).toString(), want);
  const udp = portOf(host, 'ack', 'udp');
  assert.equal((await datagram(udp, 'hi\n'))?.toString(), 'message received\n');
  assert.equal((await datagram(udp, 'hi'))?.toString(), 'message received\r\n');

  // A quiet partial message is acknowledged after the flush delay.
  const client = await openClient(t, portOf(host, 'ack'));
  client.socket.write('waiting');
  const got = await client.waitFor((b) => b.length > 0, 'the ack');
  assert.equal(got.toString(), 'message received\r\n');
});

test('ack: the text is configurable', async (t) => {
  const host = await startHost(t, ['ack=tcp://127.0.0.1:0', 'ack=udp://[::1]:0'], {
    ackText: 'OK 200 ✓',
  });
  assert.equal(
    (await exchange(portOf(host, 'ack'), 'a\nb\r\n')).toString(),
    'OK 200 ✓\nOK 200 ✓\r\n',
  );
  const udp = await datagram(portOf(host, 'ack', 'udp'), 'x\n', { host: '::1' });
  assert.equal(udp?.toString(), 'OK 200 ✓\n');
});

test('stamp: each line prefixed with the daytime text, ending kept', async (t) => {
  const path = join(tempDir(t), 'stamp.sock');
  const host = await startHost(
    t,
    ['stamp=tcp://127.0.0.1:0', `stamp=unix:${path}`, 'stamp=udp://127.0.0.1:0'],
    { now: () => PINNED },
  );
  const want =
    '[Fri Dec 29 19:14:15 2017] hello\r\n[Fri Dec 29 19:14:15 2017] wörld\n[Fri Dec 29 19:14:15 2017] end';
  assert.equal((await exchange(portOf(host, 'stamp'), 'hello\r\nwörld\nend')).toString(), want);
  assert.equal((await exchange({ path }, 'hello\r\nwörld\nend')).toString(), want);
  const udp = await datagram(portOf(host, 'stamp', 'udp'), 'hello\n');
  assert.equal(udp?.toString(), '[Fri Dec 29 19:14:15 2017] hello\n');
});

test("stamp with timeFormat 'iso' uses RFC 3339", async (t) => {
  const pinned = new Date(Date.UTC(2017, 11, 29, 19, 14, 15, 500));
  const host = await startHost(t, ['stamp=tcp://127.0.0.1:0'], {
    now: () => pinned,
    timeFormat: 'iso',
  });
  const reply = await exchange(portOf(host, 'stamp'), 'hello\n');
  assert.equal(reply.toString(), '[2017-12-29T19:14:15Z] hello\n');
});

test('stamp reads the clock for each message', async (t) => {
  let now = PINNED;
  const host = await startHost(t, ['stamp=tcp://127.0.0.1:0'], { now: () => now });
  const client = await openClient(t, portOf(host, 'stamp'));
  client.socket.write('a\n');
  await client.waitFor((b) => b.includes('a\n'), 'the first stamp');
  now = new Date(2024, 0, 5, 3, 4, 5);
  client.socket.end('b\n');
  assert.equal(
    (await client.ended).toString(),
    '[Fri Dec 29 19:14:15 2017] a\n[Fri Jan  5 03:04:05 2024] b\n',
  );
});
