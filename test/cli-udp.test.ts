// `wirecat udp` as a child process: --send or stdin as the datagram, the reply printed raw,
// retries then exit 6 when nothing answers, exit 3 on ICMP port unreachable, usage errors.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { type TestContext, test } from 'node:test';
import { portOf, runCli, startHost } from './helpers.js';

/** A UDP socket on 127.0.0.1:0 that counts datagrams and never answers. */
async function silentUdp(t: TestContext): Promise<{ port: number; received: () => number }> {
  const socket = dgram.createSocket('udp4');
  let count = 0;
  socket.on('message', () => count++);
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  t.after(() => socket.close());
  return { port: socket.address().port, received: () => count };
}

test('udp --send and stdin payloads; the reply is printed raw', async (t) => {
  const host = await startHost(t, ['echo=udp://127.0.0.1:0', 'time=udp://127.0.0.1:0']);
  const echo = portOf(host, 'echo', 'udp');
  const sent = await runCli(['udp', `127.0.0.1:${echo}`, '--send', 'hello']);
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(sent.stdout.toString(), 'hello');

  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const piped = await runCli(['udp', `udp://127.0.0.1:${echo}`], { input: binary });
  assert.equal(piped.code, 0, piped.stderr);
  assert.ok(piped.stdout.equals(binary), 'stdin payload altered');

  const time = await runCli(['udp', `127.0.0.1:${portOf(host, 'time', 'udp')}`]);
  assert.equal(time.code, 0, time.stderr);
  assert.equal(time.stdout.length, 4);
  const unix = time.stdout.readUInt32BE(0) - 2_208_988_800;
  assert.ok(Math.abs(unix - Date.now() / 1000) < 5);
});

test('udp: no reply -> retries, then exit 6', async (t) => {
  const peer = await silentUdp(t);
  const started = Date.now();
  const r = await runCli([
    'udp',
    `127.0.0.1:${peer.port}`,
    '--send',
    'anyone?',
    '--timeout',
    '200ms',
    '--retries',
    '2',
  ]);
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stderr, /no reply from udp:\/\/127\.0\.0\.1:\d+ after 3 tries of 200 ms/);
  assert.equal(peer.received(), 3);
  assert.ok(Date.now() - started >= 600);
  assert.equal(r.stdout.length, 0);
  const once = await runCli([
    'udp',
    `127.0.0.1:${peer.port}`,
    '--timeout',
    '100ms',
    '--retries',
    '0',
  ]);
  assert.match(once.stderr, /after 1 try of 100 ms/);
});

test('udp: ICMP port unreachable -> exit 3 at once', async () => {
  // Bind then free a port: now the kernel answers with ICMP port unreachable.
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const closed = socket.address().port;
  socket.close();
  const started = Date.now();
  const r = await runCli(['udp', `127.0.0.1:${closed}`, '--send', 'x', '--timeout', '3s']);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /refused the datagram/);
  assert.ok(Date.now() - started < 2500, 'waited for the timeout instead');
});

test('udp usage errors exit 2', async () => {
  for (const args of [
    ['udp'],
    ['udp', 'tcp://127.0.0.1:7'],
    ['udp', '127.0.0.1:7', '--retries', 'x'],
  ]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^wirecat udp: \S.*\n$/);
  }
});
