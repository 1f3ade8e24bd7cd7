// Attack: TLS endpoints. Plain-text garbage and abandoned handshakes on a tls:// endpoint,
// and a flood of connections that never start their handshake: each is closed (at the latest
// at the handshake timeout), never becomes a connection, and a real TLS client is served
// meanwhile; slots return to zero. A client that never starts its handshake is closed at the
// handshake timeout.

import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { createSelfSignedCertificate } from '../src/transport/self-signed.js';
import { DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS } from '../src/transport/tls.js';
import { figure, openMany } from './attack-helpers.js';
import { portOf, startHost, waitFor } from './helpers.js';

const credentials = createSelfSignedCertificate();

/** One TLS echo round trip, verified against our certificate; resolves with its ms. */
function tlsEcho(port: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      port,
      host: '127.0.0.1',
      ca: credentials.cert,
      servername: 'localhost',
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('TLS echo timed out')));
    socket.on('secureConnect', () => socket.write('tls ok'));
    socket.on('data', (d) => {
      assert.equal(d.toString(), 'tls ok');
      socket.destroy();
      resolve(performance.now() - started);
    });
    socket.on('error', reject);
  });
}

test('TLS: garbage, abandoned handshakes and never-started ones are closed; real clients are served', async (t) => {
  const host = await startHost(t, ['echo=tls://127.0.0.1:0'], { tls: credentials });
  const port = portOf(host, 'echo', 'tls');
  // Plain text and random bytes where a ClientHello should be: the server closes at once.
  for (const garbage of ['GET / HTTP/1.0\r\n\r\n', 'SSH-2.0-OpenSSH_9.6\r\n', '\0'.repeat(5000)]) {
    const closed = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.on('connect', () => s.write(garbage));
      s.on('error', () => {});
      s.on('close', () => resolve(true));
      setTimeout(() => resolve(false), 3000).unref();
    });
    assert.ok(closed, `${JSON.stringify(garbage.slice(0, 20))} left the connection open`);
  }
  // A client that says hello and vanishes mid-handshake.
  for (let i = 0; i < 20; i++) {
    const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    s.on('error', () => {});
    await new Promise((r) => setTimeout(r, 2));
    s.destroy();
  }
  // 200 connections that never send a byte of handshake, while a real client comes and goes.
  const silent = await openMany(t, port, 200);
  const times: number[] = [];
  try {
    for (let i = 0; i < 20; i++) times.push(await tlsEcho(port));
    assert.ok(
      silent.every((p) => !p.closed),
      'silent ones are given the handshake timeout',
    );
  } finally {
    for (const p of silent) p.socket.destroy();
  }
  await waitFor(() => host.stats.connectionsOpen === 0, 'the real clients to be released');
  // The 20 real ones, plus any of the 20 abandoned ones that finished before vanishing; never
  // the 200 silent ones.
  const total = host.stats.connectionsTotal;
  assert.ok(total >= 20 && total <= 40, `${total} connections counted`);
  figure(
    t,
    `TLS: garbage closed at once; 20 verified echo round trips beside 200 silent handshakes: max ${Math.max(...times).toFixed(1)} ms`,
  );
});

test('TLS: a client that never starts its handshake is closed at the handshake timeout', async (t) => {
  const host = await startHost(t, ['echo=tls://127.0.0.1:0'], { tls: credentials });
  const [silent] = await openMany(t, portOf(host, 'echo', 'tls'), 1);
  await waitFor(
    () => silent.closed,
    'the handshake timeout',
    DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS + 3000,
  );
  assert.ok(silent.closedAfter >= DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS - 100);
  figure(
    t,
    `TLS: a silent client was closed after ${silent.closedAfter} ms (handshake timeout ${DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS} ms)`,
  );
});
