// Attack: resets and half-closes at every point of an exchange, on every TCP service —
// before the request, in the middle of it, while the reply streams (the server is writing),
// and after it — by RST, by FIN (half-close) and by a plain close. The server must never
// throw, never report a service failure, and release every slot (the open count returns to 0);
// a normal client is served after the storm.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { channels, type SocketEvent } from '../src/index.js';
import type { Conn } from '../src/transport/conn.js';
import { figure, sleep } from './attack-helpers.js';
import { exchange, portOf, startHost, tempDir, waitFor } from './helpers.js';

const BIG = 4 * 1024 * 1024;

/** What each service is sent: a request that gets a reply (a big one where the service can). */
const REQUESTS: Record<string, Buffer> = {
  echo: Buffer.alloc(BIG, 0x65),
  discard: Buffer.from('thrown away\n'),
  chargen: Buffer.alloc(0),
  qotd: Buffer.alloc(0),
  daytime: Buffer.alloc(0),
  time: Buffer.alloc(0),
  reverse: Buffer.from('a line to reverse\n'.repeat(50_000)),
  ack: Buffer.from('ack me\n'.repeat(50_000)),
  stamp: Buffer.from('stamp me\n'.repeat(50_000)),
  chat: Buffer.from('somebody\n/who\n/help\n'),
  files: Buffer.from('/big.bin\r\n'),
  http: Buffer.from('GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n'),
};

type Point = 'before' | 'partial' | 'during' | 'after';
type How = 'reset' | 'half-close' | 'close';
const POINTS: Point[] = ['before', 'partial', 'during', 'after'];
const HOWS: How[] = ['reset', 'half-close', 'close'];

/** One client that stops at `point` by `how`; resolves once its socket is closed. */
async function misbehave(port: number, request: Buffer, point: Point, how: How): Promise<void> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', resolve);
  });
  let got = 0;
  let ended = false;
  socket.on('data', (d) => {
    got += d.length;
  });
  socket.on('end', () => {
    ended = true;
  });
  const gotSome = () => waitFor(() => got > 0 || ended, 'a first reply byte', 300).catch(() => {});
  if (point === 'partial') {
    socket.write(request.subarray(0, Math.max(1, request.length >> 1)));
    await sleep(20);
  } else if (point === 'during') {
    socket.write(request);
    await gotSome();
  } else if (point === 'after') {
    socket.write(request);
    await gotSome();
    await waitFor(() => ended, 'the reply to end', 300).catch(() => {});
  }
  if (how === 'reset') socket.resetAndDestroy();
  else if (how === 'close') socket.destroy();
  else {
    socket.end();
    // Read on for a while (the server may still be answering), then go.
    await waitFor(() => ended, 'the server to finish', 300).catch(() => {});
    socket.destroy();
  }
  await closed;
}

test('resets and half-closes at every point of every TCP exchange: no failure, no leaked slot', async (t) => {
  const root = tempDir(t);
  writeFileSync(join(root, 'big.bin'), Buffer.alloc(BIG, 0x62));
  const services = Object.keys(REQUESTS);
  const host = await startHost(
    t,
    services.map((s) => `${s}=tcp://127.0.0.1:0`),
    { root },
  );
  const failures: SocketEvent[] = [];
  const onError = (m: unknown) => {
    const e = m as SocketEvent;
    if (e.reason === 'WIRECAT_SERVICE_FAILED') failures.push(e);
  };
  channels.error.subscribe(onError);
  t.after(() => channels.error.unsubscribe(onError));

  const started = Date.now();
  let runs = 0;
  await Promise.all(
    services.map(async (service) => {
      const port = portOf(host, service);
      for (const point of POINTS) {
        for (const how of HOWS) {
          await misbehave(port, REQUESTS[service], point, how);
          runs++;
        }
      }
    }),
  );
  const took = Date.now() - started;
  await waitFor(() => host.stats.connectionsOpen === 0, 'every slot to be released', 10_000).catch(
    (err) => {
      const open = [...(host as unknown as { slots: { conns: Set<Conn> } }).slots.conns];
      throw new Error(`${err.message}; still open: ${open.map((c) => c.service).join(', ')}`);
    },
  );
  assert.deepEqual(
    failures.map((e) => `${e.service}: ${e.message}`),
    [],
  );
  assert.equal(host.stats.connectionsTotal, runs);
  // Everyone is still served.
  assert.equal((await exchange(portOf(host, 'echo'), 'still here')).toString(), 'still here');
  assert.equal((await exchange(portOf(host, 'files'), '/big.bin\r\n')).length, BIG);
  assert.match((await exchange(portOf(host, 'reverse'), 'abc\n')).toString(), /^cba\n$/);
  figure(
    t,
    `resets: ${runs} exchanges cut (${services.length} services x ${POINTS.length} points x ${HOWS.length} ways) in ${took} ms; 0 service failures; open connections back to 0`,
  );
});

test('a client that closes while the server is writing a large reply frees its slot at once', async (t) => {
  const root = tempDir(t);
  writeFileSync(join(root, 'big.bin'), Buffer.alloc(BIG, 0x62));
  const host = await startHost(
    t,
    ['chargen=tcp://127.0.0.1:0', 'files=tcp://127.0.0.1:0', 'echo=tcp://127.0.0.1:0'],
    { root },
  );
  for (const [service, request] of [
    ['chargen', ''],
    ['files', '/big.bin\r\n'],
    ['echo', Buffer.alloc(BIG)],
  ] as const) {
    for (let i = 0; i < 20; i++) {
      const socket = net.connect({ port: portOf(host, service), host: '127.0.0.1' });
      socket.on('error', () => {});
      socket.on('connect', () => socket.write(request));
      // Read one chunk (the server is mid-write, the kernel buffers full), then vanish.
      await new Promise<void>((resolve) => socket.once('data', () => resolve()));
      socket.pause();
      await sleep(5);
      socket.destroy();
    }
  }
  await waitFor(() => host.stats.connectionsOpen === 0, 'the slots to be released', 5000);
});
