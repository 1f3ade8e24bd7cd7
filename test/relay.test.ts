// relay A B: bytes both ways, half-close each way, resets, many clients, UDP, TLS, stdio.

import assert from 'node:assert/strict';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { relay } from '../src/client/relay.js';
import { connect } from '../src/index.js';
import { createSelfSignedCertificate } from '../src/transport/self-signed.js';
import {
  assertCutOff,
  datagram,
  exchange,
  halfOpenClient,
  openClient,
  portOf,
  runCli,
  spawnCli,
  startHost,
  waitFor,
} from './helpers.js';

/** A relay from a free loopback port to `b`, closed when the test ends. */
export async function startRelay(
  t: import('node:test').TestContext,
  b: string,
  options: Parameters<typeof relay>[2] = {},
  a = 'tcp://127.0.0.1:0',
) {
  const r = await relay(a, b, { keepOpen: true, ...options });
  t.after(() => r.close());
  return { relay: r, port: r.listeners[0].port as number };
}

/** A TCP server whose sockets the test drives; records what each one saw. */
async function upstream(t: import('node:test').TestContext, onSocket: (s: net.Socket) => void) {
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    s.on('error', () => {});
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, sockets };
}

test('bytes both ways, exact, through a keep-open relay to echo', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const { port } = await startRelay(t, `tcp://127.0.0.1:${portOf(host, 'echo')}`);
  const payload = Buffer.alloc(300_000);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
  const [one, two] = await Promise.all([exchange(port, payload), exchange(port, 'second\n')]);
  assert.deepEqual(one, payload);
  assert.equal(two.toString(), 'second\n');
});

test('a fast upstream and a slow client: every byte arrives, in order (reads land in a shared buffer)', async (t) => {
  const payload = Buffer.alloc(24 * 1024 * 1024);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >> 16)) & 0xff;
  const up = await upstream(t, (s) => s.end(payload));
  const { port } = await startRelay(t, `tcp://127.0.0.1:${up.port}`);
  const client = await openClient(t, port);
  // Not reading for a while fills the kernel buffers, so the relay's writes to us queue up
  // and it must hold what it read from upstream while reading goes on elsewhere.
  client.socket.pause();
  await new Promise((resolve) => setTimeout(resolve, 400));
  client.socket.resume();
  const received = await client.ended;
  assert.equal(received.length, payload.length);
  assert.ok(received.equals(payload), 'the bytes differ from what upstream sent');
});

test('half-close client to upstream: upstream sees FIN, replies after it, client gets it all', async (t) => {
  const up = await upstream(t, (s) => {
    let got = '';
    s.on('data', (d) => {
      got += d;
    });
    s.on('end', () => s.end(`after your FIN I got: ${got}`));
  });
  const { port } = await startRelay(t, `tcp://127.0.0.1:${up.port}`);
  const reply = await exchange(port, 'abc');
  assert.equal(reply.toString(), 'after your FIN I got: abc');
});

test('half-close upstream to client: client sees FIN and can still send upstream', async (t) => {
  let lateData = '';
  let upstreamSawEnd = false;
  const up = await upstream(t, (s) => {
    s.end('banner\n'); // half-close at once
    s.on('data', (d) => {
      lateData += d;
    });
    s.on('end', () => {
      upstreamSawEnd = true;
    });
  });
  const { port } = await startRelay(t, `tcp://127.0.0.1:${up.port}`);
  const client = await openClient(t, port);
  assert.equal((await client.ended).toString(), 'banner\n');
  client.socket.write('still talking');
  await waitFor(() => lateData === 'still talking', 'late data upstream');
  client.socket.end();
  await waitFor(() => upstreamSawEnd, 'FIN upstream');
  await client.closed;
});

test('a reset upstream resets the client', async (t) => {
  const up = await upstream(t, (s) => {
    s.once('data', () => s.resetAndDestroy());
  });
  const { port } = await startRelay(t, `tcp://127.0.0.1:${up.port}`);
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
    socket.on('error', resolve);
    socket.on('connect', () => socket.write('x'));
  });
  assert.equal(error.code, 'ECONNRESET');
});

test('without keep-open: one client, then the relay finishes with a summary', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const r = await relay('tcp://127.0.0.1:0', `tcp://127.0.0.1:${portOf(host, 'echo')}`);
  t.after(() => r.close());
  const reply = await exchange(r.listeners[0].port as number, 'once');
  assert.equal(reply.toString(), 'once');
  const result = await r.finished;
  assert.deepEqual([result.sessions, result.bytesToB, result.bytesToA], [1, 4, 4]);
  assert.equal(result.closedFirstBy, 'client');
});

test('limits: --max-connections refuses the client over the limit', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const { port } = await startRelay(t, `tcp://127.0.0.1:${portOf(host, 'echo')}`, {
    limits: { maxConnections: 1 },
  });
  const first = await openClient(t, port);
  first.socket.write('one');
  await first.waitFor((b) => b.toString() === 'one', 'echo through the first');
  const second = await openClient(t, port);
  assert.equal((await second.ended).length, 0); // cut at once, nothing relayed
  first.socket.destroy();
});

test('UDP to UDP: each client gets its own session', async (t) => {
  const host = await startHost(t, ['echo=udp://127.0.0.1:0']);
  const { port } = await startRelay(
    t,
    `udp://127.0.0.1:${portOf(host, 'echo', 'udp')}`,
    {},
    'udp://127.0.0.1:0',
  );
  const [a, b] = await Promise.all([datagram(port, 'alpha'), datagram(port, 'beta')]);
  assert.equal(a?.toString(), 'alpha');
  assert.equal(b?.toString(), 'beta');
});

test('TLS on A, TCP on B: the relay adds TLS in front of a plain service', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const credentials = createSelfSignedCertificate();
  const { port } = await startRelay(
    t,
    `tcp://127.0.0.1:${portOf(host, 'echo')}`,
    { tlsServer: credentials },
    'tls://127.0.0.1:0',
  );
  const result = await connect(`tls://127.0.0.1:${port}`, {
    input: 'secret',
    tls: { ca: credentials.cert },
  });
  assert.equal(result.received?.toString(), 'secret');
});

test('stdio on A: like connect, with half-close at the input end', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const input = new PassThrough();
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (d) => chunks.push(d));
  const r = await relay('-', `tcp://127.0.0.1:${portOf(host, 'echo')}`, {
    stdio: { input, output },
  });
  input.end('from stdin');
  const result = await r.finished;
  assert.equal(Buffer.concat(chunks).toString(), 'from stdin');
  assert.equal(result.bytesToB, 10);
});

test('CLI: relay - B -v prints the reply and the summary', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const out = await runCli(['relay', '-', `127.0.0.1:${portOf(host, 'echo')}`, '-v'], {
    input: 'cli\n',
  });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout.toString(), 'cli\n');
  assert.match(out.stderr, /sent 4 B, received 4 B, client closed first at \d+ ms/);
});

test('CLI: relay to a port nobody listens on exits 3', async () => {
  const out = await runCli(['relay', '-', '127.0.0.1:1']);
  assert.equal(out.code, 3, out.stderr);
});

/** `wirecat relay -k` in front of echo, and one client that has had one echo through it. */
async function cliRelayWithClient(t: import('node:test').TestContext, extra: string[]) {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const child = spawnCli(t, [
    'relay',
    'tcp://127.0.0.1:0',
    `127.0.0.1:${portOf(host, 'echo')}`,
    '-k',
    ...extra,
  ]);
  const port = Number(
    (
      await waitFor(
        () => /listening on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(child.errors()) ?? undefined,
        'listening',
      )
    )[1],
  );
  // One echo through the relay: the session exists before any signal is sent.
  const { socket, state } = await halfOpenClient(t, port, { accepted: true });
  const exit = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, at: Date.now() })),
  );
  return { child, socket, state, exit };
}

test('CLI: relay -k on SIGTERM says it drains, and cuts a session that stays open at --drain-timeout', async (t) => {
  const { child, socket, state, exit } = await cliRelayWithClient(t, ['--drain-timeout', '600ms']);
  const since = Date.now();
  child.kill('SIGTERM');
  await waitFor(() => state.fin, 'the FIN passed on to the client');
  const { code, at } = await exit;
  assert.equal(code, 0, child.errors());
  assert.ok(at - since >= 500, `exited after ${at - since} ms, before the drain timeout`);
  assert.ok(at - since < 4000, `exited after ${at - since} ms`);
  assert.match(child.errors(), /wirecat relay: SIGTERM: draining 1 session \(up to 600 ms\)/);
  await assertCutOff(socket, state);
});

test('CLI: relay -k stops at once with exit code 130 on a second SIGINT', async (t) => {
  const { child, state, exit } = await cliRelayWithClient(t, ['--drain-timeout', '30s']);
  child.kill('SIGINT');
  await waitFor(() => state.fin, 'the FIN passed on to the client');
  const since = Date.now();
  child.kill('SIGINT');
  const { code, at } = await exit;
  assert.equal(code, 130, child.errors());
  assert.ok(at - since < 2000, `took ${at - since} ms`);
  assert.match(child.errors(), /SIGINT: draining 1 session \(up to 30000 ms\)/);
  assert.match(child.errors(), /wirecat relay: SIGINT again, stopping now/);
});
