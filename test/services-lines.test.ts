// What every line service (echo, reverse, ack, stamp) must survive over TCP and Unix sockets:
// messages split byte by byte, half-close, binary bytes, oversize lines, resets mid-reply,
// and many clients at once — with real sockets.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { subscribeAll } from '../src/index.js';
import {
  exchange,
  openClient,
  portOf,
  startHost,
  type TestClient,
  tempDir,
  waitFor,
} from './helpers.js';

/** A fixed local time, so stamp's answers are exact. */
const PINNED = new Date(2017, 11, 29, 19, 14, 15);
const STAMP = '[Fri Dec 29 19:14:15 2017] ';
const LINE_SERVICES = ['echo', 'reverse', 'ack', 'stamp'] as const;
type LineService = (typeof LINE_SERVICES)[number];

/** What each service answers to one valid UTF-8 message (`ending` is '\n', '\r\n' or ''). */
function answer(service: LineService, content: string, ending: string): string {
  switch (service) {
    case 'echo':
      return content + ending;
    case 'reverse':
      return [...content].reverse().join('') + ending;
    case 'ack':
      return `message received${ending === '\n' ? '\n' : '\r\n'}`;
    case 'stamp':
      return STAMP + content + ending;
  }
}

/** The expected reply to several complete lines. */
function answers(service: LineService, lines: [string, string][]): Buffer {
  return Buffer.from(lines.map(([content, ending]) => answer(service, content, ending)).join(''));
}

// Long flush delay: a partial line must only be answered on half-close in these tests, however
// slowly a loaded machine delivers the bytes.
const OPTIONS = { now: () => PINNED, limits: { flushDelayMs: 10_000 } };

const LINES: [string, string][] = [
  ['héllo wörld', '\r\n'],
  ['second', '\n'],
  ['', '\n'],
  ['日本語 🎉 text', '\r\n'],
];
const INPUT = LINES.map(([c, e]) => c + e).join('');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const service of LINE_SERVICES) {
  test(`${service}: a message sent byte by byte over TCP gets the same answer as one write`, async (t) => {
    const host = await startHost(t, [`${service}=tcp://127.0.0.1:0`], OPTIONS);
    const reads: number[] = [];
    const stop = subscribeAll((e) => {
      if (e.type === 'data-in' && e.service === service) reads.push(e.bytes ?? 0);
    });
    t.after(stop);
    const client = await openClient(t, portOf(host, service));
    client.socket.setNoDelay(true);
    for (const byte of Buffer.from(INPUT)) {
      client.socket.write(Buffer.from([byte]));
      await sleep(1);
    }
    client.socket.end();
    assert.deepEqual(await client.ended, answers(service, LINES));
    assert.ok(reads.length > 1, `the server saw ${reads.length} reads; the test needs several`);
  });

  test(`${service}: half-close over a Unix socket answers every line, then closes`, async (t) => {
    const path = join(tempDir(t), `${service}.sock`);
    const host = await startHost(t, [`${service}=unix:${path}`], OPTIONS);
    const reply = await exchange({ path }, INPUT);
    assert.deepEqual(reply, answers(service, LINES));
    await waitFor(() => host.stats.connectionsOpen === 0, 'the slot to be released');
  });

  test(`${service}: a partial last line is answered at once on half-close`, async (t) => {
    const host = await startHost(t, [`${service}=tcp://127.0.0.1:0`], OPTIONS);
    const started = Date.now();
    const reply = await exchange(portOf(host, service), 'one\nno newline');
    assert.deepEqual(
      reply,
      Buffer.concat([answers(service, [['one', '\n']]), answers(service, [['no newline', '']])]),
    );
    assert.ok(Date.now() - started < 5000, 'answered on half-close, not after the flush delay');
  });

  test(`${service}: NUL and invalid UTF-8 bytes pass through intact`, async (t) => {
    const host = await startHost(t, [`${service}=tcp://127.0.0.1:0`], OPTIONS);
    // a, é (valid), 0xff, NUL, C3 28 (bad continuation), E2 82 (truncated), LF
    const content = Buffer.from([0x61, 0xc3, 0xa9, 0xff, 0x00, 0xc3, 0x28, 0xe2, 0x82]);
    const reply = await exchange(portOf(host, service), [content, '\n']);
    const expected = {
      echo: Buffer.concat([content, Buffer.from('\n')]),
      // Each invalid byte is one unit; é stays one unit.
      reverse: Buffer.from([0x82, 0xe2, 0x28, 0xc3, 0x00, 0xff, 0xc3, 0xa9, 0x61, 0x0a]),
      ack: Buffer.from('message received\n'),
      stamp: Buffer.concat([Buffer.from(STAMP), content, Buffer.from('\n')]),
    }[service];
    assert.deepEqual(reply, expected);
  });

  test(`${service}: 200 clients at once each get their own answer`, async (t) => {
    const host = await startHost(t, [`${service}=tcp://127.0.0.1:0`], OPTIONS);
    const port = portOf(host, service);
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => exchange(port, `client ${i} says ñ${i}\n`)),
    );
    replies.forEach((reply, i) => {
      assert.deepEqual(reply, answers(service, [[`client ${i} says ñ${i}`, '\n']]));
    });
    assert.equal(host.stats.connectionsTotal, 200);
    await waitFor(() => host.stats.connectionsOpen === 0, 'every slot to be released');
  });
}

for (const service of ['reverse', 'ack', 'stamp'] as const) {
  test(`${service}: a line over maxLineBytes gets an error line and a close; others go on`, async (t) => {
    const host = await startHost(t, [`${service}=tcp://127.0.0.1:0`], {
      ...OPTIONS,
      limits: { ...OPTIONS.limits, maxLineBytes: 64 },
    });
    const port = portOf(host, service);
    const bystander = await openClient(t, port);

    // Exactly the limit (content, not counting the ending) is fine, with LF or CRLF.
    const exact = 'x'.repeat(64);
    assert.deepEqual(
      await exchange(port, `${exact}\n${exact}\r\n`),
      answers(service, [
        [exact, '\n'],
        [exact, '\r\n'],
      ]),
    );

    // One over, with a newline, split across writes, and without any newline at all (1 MB).
    // The server half-closes after the error line and releases the slot within its linger.
    const offenders = [
      [`${'y'.repeat(65)}\n`],
      ['y'.repeat(40), 'y'.repeat(40)],
      [Buffer.alloc(1_000_000, 'z')],
    ].map(async (send) => {
      const offender = await openClient(t, port);
      for (const piece of send) offender.socket.write(piece);
      const reply = (await offender.ended).toString();
      assert.match(reply, /^error: .*longer than 64 bytes.*\r\n$/, `reply was ${reply}`);
    });
    await Promise.all(offenders);
    await waitFor(() => host.stats.connectionsOpen === 1, 'the offenders to be cut', 5000);

    bystander.socket.end('still here\n');
    assert.deepEqual(await bystander.ended, answers(service, [['still here', '\n']]));
    await waitFor(() => host.stats.connectionsOpen === 0, 'every slot to be released');
  });
}

test('reverse over TCP on IPv6 [::1]', async (t) => {
  const host = await startHost(t, ['reverse=tcp://[::1]:0'], OPTIONS);
  const reply = await exchange({ host: '::1', port: portOf(host, 'reverse') }, 'héllo\n');
  assert.equal(reply.toString(), 'olléh\n');
});

/** Fill the connection towards the server until our own send buffer backs up. */
async function sendUntilBlocked(client: TestClient, what: string): Promise<void> {
  const chunk = Buffer.alloc(65_536, 'e');
  for (let i = 0; i < 2_000 && client.socket.write(chunk); i++) {
    if (i % 16 === 0) await sleep(1);
  }
  assert.ok(client.socket.writableLength > 0, `${what}: our writes never backed up`);
}

for (const service of ['echo', 'chargen'] as const) {
  test(`${service}: a peer that resets mid-reply costs only its own connection`, async (t) => {
    const host = await startHost(t, [`${service}=tcp://127.0.0.1:0`, 'echo=tcp://127.0.0.1:0']);
    const port = portOf(host, service);
    const victim = await openClient(t, port);
    victim.socket.pause(); // never read: the server's replies pile up
    if (service === 'echo') await sendUntilBlocked(victim, service);
    await waitFor(
      () => host.stats.bytesOut > 1_000_000 && host.stats.connectionsOpen === 1,
      'the server to be busy writing',
    );
    victim.socket.resetAndDestroy();
    await victim.closed;
    await waitFor(() => host.stats.connectionsOpen === 0, 'the slot to be released');

    const echoPort = host.listeners.filter((l) => l.service === 'echo').at(-1)?.port;
    assert.ok(echoPort);
    assert.equal((await exchange(echoPort, 'next\n')).toString(), 'next\n');
    const again = await openClient(t, port);
    if (service === 'chargen') await again.waitFor((b) => b.length >= 74, 'a chargen line');
    else {
      again.socket.end('ok\n');
      assert.equal((await again.ended).toString(), 'ok\n');
    }
  });
}
