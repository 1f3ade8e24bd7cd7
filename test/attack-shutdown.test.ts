// Attack: shutdown under load. SIGTERM while 60 TCP clients exchange data, UDP requests flow
// and a TFTP upload is half done: every client gets back exactly what reached the server and a
// FIN (never a reset), the process exits 0 within the drain deadline, and the interrupted upload
// leaves no file — neither under its name nor as a temporary one. A second signal exits at once.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { tftpPut } from '../src/client/tftp.js';
import { figure, serveChild, sleep } from './attack-helpers.js';
import { tempDir, waitFor } from './helpers.js';

/** A closed-loop echo client: sends 1 KiB, waits for its echo, repeats until the server ends. */
function echoClient(t: TestContext, port: number) {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  t.after(() => socket.destroy());
  const state = { sent: [] as Buffer[], received: [] as Buffer[], fin: false, error: '' };
  let got = 0;
  let owed = 0;
  const next = () => {
    if (state.fin || socket.writableEnded) return;
    const chunk = randomBytes(1024);
    state.sent.push(chunk);
    owed += chunk.length;
    socket.write(chunk);
  };
  socket.on('connect', next);
  socket.on('data', (d) => {
    state.received.push(d);
    got += d.length;
    if (got >= owed) next();
  });
  socket.on('end', () => {
    state.fin = true;
    socket.end();
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    state.error = err.code ?? err.message;
  });
  return state;
}

test('SIGTERM under load: in-flight exchanges finish with a FIN, exit 0 within the deadline, no half-written file', async (t) => {
  const root = tempDir(t);
  const upload = join(tempDir(t), 'big.bin');
  // Far more than lock-step 512-byte blocks can move within the drain deadline.
  writeFileSync(upload, randomBytes(48 * 1024 * 1024));
  const served = await serveChild(t, [
    'echo=tcp://127.0.0.1:0',
    'echo=udp://127.0.0.1:0',
    'reverse=tcp://127.0.0.1:0',
    'tftp=udp://127.0.0.1:0',
    '--root',
    root,
    '--allow-write',
    '--drain-timeout',
    '1s',
  ]);
  const clients = Array.from({ length: 60 }, () => echoClient(t, served.port('echo')));
  const udp = dgram.createSocket('udp4');
  t.after(() => udp.close());
  const udpTimer = setInterval(() => udp.send('ping', served.port('echo', 'udp'), '127.0.0.1'), 2);
  t.after(() => clearInterval(udpTimer));
  const put = tftpPut(`127.0.0.1:${served.port('tftp', 'udp')}`, upload, 'big.bin', {
    blksize: 512,
    windowsize: 1,
  }).then(
    () => 'finished',
    (err: Error) => `failed: ${err.message}`,
  );
  await waitFor(() => readdirSync(root).some((n) => n.endsWith('.part')), 'the upload to start');
  await waitFor(() => clients.every((c) => c.received.length > 3), 'the echo load');
  await sleep(300);

  const since = Date.now();
  served.child.kill('SIGTERM');
  const { code } = await served.exited(6000);
  const took = Date.now() - since;
  clearInterval(udpTimer);
  assert.equal(code, 0, served.errors());
  assert.ok(took < 1000 + 1500, `exit took ${took} ms with a 1 s drain deadline`);
  for (const c of clients) {
    await waitFor(() => c.fin || c.error !== '', 'the client to see the end');
    assert.equal(c.error, '', 'a client was reset instead of finished');
    const sent = Buffer.concat(c.sent);
    const received = Buffer.concat(c.received);
    assert.ok(received.length > 0 && sent.subarray(0, received.length).equals(received));
  }
  assert.match(await put, /^failed/);
  assert.deepEqual(readdirSync(root), [], 'the interrupted upload left a file behind');
  const exchanged = clients.reduce((n, c) => n + Buffer.concat(c.received).length, 0);
  figure(
    t,
    `SIGTERM under load (60 echo clients, ${exchanged >> 10} KiB echoed, UDP every 2 ms, a TFTP upload): exit 0 after ${took} ms (deadline 1 s), every client FIN with a byte-exact prefix, no file left`,
  );
});

test('a second SIGTERM during the drain exits at once', async (t) => {
  const served = await serveChild(t, ['chargen=tcp://127.0.0.1:0', '--drain-timeout', '30s']);
  // Clients that stop reading after their first bytes: the drain could wait the whole 30 s.
  const sockets = Array.from({ length: 20 }, () => {
    const s = net.connect({ port: served.port('chargen'), host: '127.0.0.1' });
    s.on('error', () => {});
    s.once('data', () => s.pause());
    t.after(() => s.destroy());
    return s;
  });
  // Chargen's first bytes prove the server accepted each one, so all 20 are in the drain
  // whatever the timing of the signal.
  await waitFor(() => sockets.every((s) => s.isPaused()), 'every client to be accepted');
  served.child.kill('SIGTERM');
  await waitFor(() => /draining/.test(served.errors()), 'the drain to start');
  const since = Date.now();
  served.child.kill('SIGTERM');
  const { code } = await served.exited(3000);
  assert.equal(code, 130);
  assert.ok(Date.now() - since < 1500);
});
