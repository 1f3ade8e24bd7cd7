// Attack: slow clients (slowloris). Hundreds of connections that trickle one byte every few
// hundred ms never trip the idle timeout; the request deadline (requestTimeoutMs) closes the
// ones that owe a request (Gopher selector, HTTP head, chat nickname) with the documented
// error, the idle timeout closes the silent ones, and a normal client is served promptly
// all along. WIRECAT_HEAVY=1 runs it with thousands of connections.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  echoLatencies,
  figure,
  HEAVY,
  openMany,
  type Probe,
  percentile,
  rssMiB,
  sleep,
} from './attack-helpers.js';
import { exchange, portOf, startHost, tempDir, waitFor } from './helpers.js';

const REQUEST_TIMEOUT_MS = 1_500;
const IDLE_TIMEOUT_MS = 1_000;
const TRICKLE_EVERY_MS = 300;

/** Send one byte on every open socket every `everyMs`; returns the stop function. */
function trickle(probes: Probe[], byte: string, everyMs = TRICKLE_EVERY_MS): () => void {
  const timer = setInterval(() => {
    for (const p of probes) if (!p.closed) p.socket.write(byte);
  }, everyMs);
  return () => clearInterval(timer);
}

test('slowloris: trickled requests are cut at the request deadline, a normal client is served meanwhile', async (t) => {
  const perService = HEAVY ? 1_000 : 100;
  const root = tempDir(t);
  writeFileSync(join(root, 'hello.txt'), 'hello file\n');
  const host = await startHost(
    t,
    [
      'files=tcp://127.0.0.1:0',
      'http=tcp://127.0.0.1:0',
      'chat=tcp://127.0.0.1:0',
      'reverse=tcp://127.0.0.1:0',
      'echo=tcp://127.0.0.1:0',
    ],
    {
      root,
      limits: {
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
        idleTimeoutMs: IDLE_TIMEOUT_MS,
        maxConnectionsPerSource: 10_000,
      },
      chat: { maxUsers: 10_000 },
    },
  );
  const rssBefore = rssMiB();
  const started = Date.now();
  const gopher = await openMany(t, portOf(host, 'files'), perService);
  const web = await openMany(t, portOf(host, 'http'), perService);
  const chat = await openMany(t, portOf(host, 'chat'), perService);
  const lines = await openMany(t, portOf(host, 'reverse'), perService);
  const opened = Date.now() - started;
  // Each trickles a request that never ends: a selector, a header, a nickname, a line.
  for (const p of web) p.socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  const stops = [trickle(gopher, 'a'), trickle(web, 'b'), trickle(chat, 'c'), trickle(lines, 'd')];
  t.after(() => {
    for (const stop of stops) stop();
  });

  // Meanwhile a normal client: echo round trips, a Gopher file, an HTTP page.
  await sleep(300);
  // Spread over a second, so the round trips meet the trickle bursts.
  const latencies = await echoLatencies(portOf(host, 'echo'), 200, { gapMs: 5 });
  const p99 = percentile(latencies, 99);
  const file = await exchange(portOf(host, 'files'), '/hello.txt\r\n');
  assert.equal(file.toString(), 'hello file\n');
  const page = await exchange(portOf(host, 'http'), 'GET /hello.txt HTTP/1.0\r\n\r\n');
  assert.match(page.toString(), /^HTTP\/1\.1 200 OK[\s\S]*hello file\n$/);
  const rssLoaded = rssMiB();
  assert.ok(
    p99 < 250,
    `a normal echo client waited ${p99.toFixed(1)} ms (p99) behind the slow ones`,
  );

  // The request deadline closes every trickler that owes a request, with the documented error.
  const owing = [...gopher, ...web, ...chat];
  await waitFor(
    () => owing.every((p) => p.closed),
    'every trickler owing a request to be cut',
    15_000,
  );
  for (const p of gopher) assert.match(p.text(), /^3no complete selector line within 1\.5 s\t/);
  for (const p of web) assert.match(p.text(), /^HTTP\/1\.1 408 /);
  for (const p of chat) assert.match(p.text(), /! disconnected: no nickname within 1\.5 s\r\n$/);
  const cutAfter = owing.map((p) => p.closedAfter);
  assert.ok(
    Math.min(...cutAfter) >= REQUEST_TIMEOUT_MS - 50,
    `one was cut before the deadline: ${Math.min(...cutAfter)} ms`,
  );

  // reverse answers every trickled byte after the flush delay, so it holds no growing state:
  // those are ordinary (slow) clients. Once they go quiet, the idle timeout closes them.
  assert.ok(
    lines.every((p) => !p.closed && p.text().includes('d')),
    'reverse clients are answered',
  );
  stops[3]();
  await waitFor(
    () => lines.every((p) => p.closed),
    'the idle timeout to close quiet clients',
    10_000,
  );
  await waitFor(() => host.stats.connectionsOpen === 0, 'every slot to be released', 5_000);
  figure(
    t,
    `slowloris: ${4 * perService} trickling connections (opened in ${opened} ms): echo p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms; ` +
      `RSS ${rssBefore.toFixed(0)} -> ${rssLoaded.toFixed(0)} MiB (test process, both ends); ` +
      `${owing.length} cut at the deadline after ${Math.min(...cutAfter)}-${Math.max(...cutAfter)} ms; slots back to 0`,
  );
});

test('slowloris on the chat room: nameless clients cannot keep its places; after the deadline others get in', async (t) => {
  const host = await startHost(t, ['chat=tcp://127.0.0.1:0'], {
    limits: { requestTimeoutMs: REQUEST_TIMEOUT_MS },
    chat: { maxUsers: 20 },
  });
  const port = portOf(host, 'chat');
  const squatters = await openMany(t, port, 20);
  const stop = trickle(squatters, ' '); // spaces: never a nickname, never a flood
  t.after(stop);
  await sleep(100);
  const [late] = await openMany(t, port, 1);
  await waitFor(() => late.closed, 'the full room to turn the late client away');
  assert.match(late.text(), /the room is full \(20 people\)/);

  await waitFor(() => squatters.every((p) => p.closed), 'the squatters to be cut', 10_000);
  const [next] = await openMany(t, port, 1);
  await waitFor(() => next.text().includes('choose a nickname'), 'the prompt');
  next.socket.write('alice\n');
  await waitFor(() => next.text().includes('hello alice'), 'alice to join');
  assert.ok(!next.closed);
});

test('requestTimeoutMs 0 disables the deadline; a named chat member who trickles is not cut by it', async (t) => {
  const root = tempDir(t);
  const host = await startHost(t, ['files=tcp://127.0.0.1:0', 'chat=tcp://127.0.0.1:0'], {
    root,
    limits: { requestTimeoutMs: 0 },
  });
  const [slow] = await openMany(t, portOf(host, 'files'), 1);
  const limited = await startHost(t, ['chat=tcp://127.0.0.1:0'], {
    limits: { requestTimeoutMs: 300 },
  });
  const [member] = await openMany(t, portOf(limited, 'chat'), 1);
  member.socket.write('bob\n');
  await waitFor(() => member.text().includes('hello bob'), 'bob to join');
  const stop = trickle([slow, member], 'x', 100);
  t.after(stop);
  await sleep(900);
  assert.ok(!slow.closed, 'with requestTimeoutMs 0 a slow selector is not cut');
  assert.ok(!member.closed, 'a named member is past the nickname deadline');
});
