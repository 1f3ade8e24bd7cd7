// `listen` over TCP (IPv4, IPv6), Unix sockets and UDP, as a library and as the CLI verb.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { type TestContext, test } from 'node:test';
import { type Listener, listen } from '../src/client/listen.js';
import { exchange, spawnCli, tempDir, waitFor } from './helpers.js';

function started(t: TestContext, listener: Listener): Listener {
  t.after(() => listener.close());
  return listener;
}

function portOf(listener: Listener): number {
  assert.ok(listener.bound.transport !== 'unix');
  return listener.bound.port;
}

test('listen: one TCP connection, both ways, then it stops listening', async (t) => {
  const listener = started(t, await listen('tcp://127.0.0.1:0', { input: 'from listener\n' }));
  assert.match(listener.address, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  const port = portOf(listener);
  const reply = await exchange(port, Buffer.from([0, 1, 255, 10]));
  assert.equal(reply.toString(), 'from listener\n');
  const result = await listener.done;
  assert.deepEqual(result.received, Buffer.from([0, 1, 255, 10]), 'binary-safe');
  assert.equal(result.peers, 1);
  await assert.rejects(exchange(port, 'again'), /ECONNREFUSED/, 'a second client is refused');
});

test('listen: default bind is loopback; IPv6 and Unix sockets work', async (t) => {
  const v4 = started(t, await listen('0', { input: '' }));
  assert.equal(v4.bound.transport === 'tcp' && v4.bound.host, '127.0.0.1');
  await exchange(portOf(v4), 'x');
  await v4.done;

  const v6 = started(t, await listen('tcp://[::1]:0', { input: 'six\n' }));
  assert.equal(
    (await exchange({ host: '::1', port: portOf(v6) }, 'hello over ::1')).toString(),
    'six\n',
  );
  assert.equal((await v6.done).received?.toString(), 'hello over ::1');

  const path = join(tempDir(t), 'listen.sock');
  const unix = started(t, await listen(`unix:${path}`, { input: 'unix\n' }));
  assert.equal((await exchange({ path }, 'u')).toString(), 'unix\n');
  assert.equal((await unix.done).received?.toString(), 'u');
});

test("listen --keep-open: many clients; each one's bytes out, the input to all", async (t) => {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  output.on('data', (d) => {
    out += d;
  });
  const listener = started(
    t,
    await listen('tcp://127.0.0.1:0', { keepOpen: true, input, output, maxClients: 3 }),
  );
  const port = portOf(listener);
  const clients = [0, 1, 2].map(() =>
    net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }),
  );
  const got = clients.map(() => '');
  const closed = clients.map(() => false);
  clients.forEach((c, i) => {
    t.after(() => c.destroy());
    c.setEncoding('utf8');
    c.on('data', (d) => {
      got[i] += d;
    });
    c.on('end', () => c.end());
    c.on('close', () => {
      closed[i] = true;
    });
  });
  await Promise.all(clients.map((c) => new Promise((r) => c.once('connect', r))));
  await waitFor(() => clients.every((c) => c.localPort !== undefined), 'connections');
  // A fourth is over --max-clients: closed at once.
  const extra = net.connect({ port, host: '127.0.0.1' });
  extra.on('error', () => {});
  await new Promise((r) => extra.once('close', r));
  for (const [i, c] of clients.entries()) c.write(`client ${i}\n`);
  await waitFor(() => [0, 1, 2].every((i) => out.includes(`client ${i}\n`)), 'all three on output');
  input.end('to everyone\n');
  await waitFor(() => got.every((g) => g === 'to everyone\n'), 'broadcast to all three');
  // Our FIN followed the broadcast; the clients answer with theirs, and still it listens.
  await waitFor(() => closed.every(Boolean), 'the three connections to close');
  assert.equal((await exchange(port, 'late\n')).toString(), '', 'a late client gets FIN at once');
  await waitFor(() => out.includes('late\n'), 'the late client heard');
  listener.close();
  const result = await listener.done;
  assert.equal(result.peers, 4, 'three, plus the late one (the refused one is not counted)');
});

test('listen UDP: many peers; replies go to the most recent one, or to all', async (t) => {
  const output = new PassThrough();
  let out = '';
  output.on('data', (d) => {
    out += d;
  });
  const input = new PassThrough();
  const listener = started(t, await listen('udp://127.0.0.1:0', { input, output }));
  const port = portOf(listener);
  const peers = [dgram.createSocket('udp4'), dgram.createSocket('udp4')];
  const heard = ['', ''];
  peers.forEach((p, i) => {
    t.after(() => p.close());
    p.on('message', (m) => {
      heard[i] += m;
    });
  });
  peers[0].send('from A\n', port, '127.0.0.1');
  await waitFor(() => out.includes('from A\n'), 'A on output');
  peers[1].send('from B\n', port, '127.0.0.1');
  await waitFor(() => out.includes('from B\n'), 'B on output: not locked to the first peer');
  input.write('reply\n');
  await waitFor(() => heard[1] === 'reply\n', 'the reply at B, the most recent peer');
  assert.equal(heard[0], '');
  listener.close();
  const result = await listener.done;
  assert.equal(result.peers, 2);

  const all = started(
    t,
    await listen('udp://127.0.0.1:0', { input: new PassThrough(), output, udpReplyTo: 'all' }),
  );
  const input2 = new PassThrough();
  const all2 = started(
    t,
    await listen('udp://127.0.0.1:0', { input: input2, output, udpReplyTo: 'all' }),
  );
  all.close();
  const port2 = portOf(all2);
  peers[0].send('a', port2, '127.0.0.1');
  peers[1].send('b', port2, '127.0.0.1');
  await waitFor(() => out.includes('ab') || out.includes('ba'), 'both datagrams');
  input2.write('all\n');
  await waitFor(() => heard[0] === 'all\n' && heard[1] === 'reply\nall\n', 'the reply at both');
});

test('wirecat listen (CLI): prints where it listens, relays, exits 0', async (t) => {
  const child = spawnCli(t, ['listen', '-v']);
  const address = await waitFor(
    () => /listening on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(child.errors())?.[1],
    'the listening line',
  );
  child.stdin?.end('hello client\n');
  const reply = await exchange(Number(address), 'hello listener\n');
  assert.equal(reply.toString(), 'hello client\n');
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 0);
  assert.equal(child.output(), 'hello listener\n');
  assert.match(child.errors(), /connection from 127\.0\.0\.1:\d+/);
  assert.match(child.errors(), /sent 13 B, received 15 B/);
});
