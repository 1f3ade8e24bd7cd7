// daytime (RFC 867) over TCP (IPv4, IPv6), Unix and UDP: one line with the date and time,
// then close; ctime-style text by default, RFC 3339 on request; the clock pinned by `now`.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  askOnEveryTransport,
  datagram,
  exchange,
  openClient,
  portOf,
  startHost,
  waitFor,
} from './helpers.js';

const TEXT = /^(\w{3}) (\w{3}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{4})\r\n$/;
const MONTHS = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');
const DAYS = 'Sun Mon Tue Wed Thu Fri Sat'.split(' ');

/** Read a ctime-style daytime reply back into a local Date. */
function parseText(reply: string): Date {
  const m = TEXT.exec(reply);
  assert.ok(m, `not ctime-style text: ${JSON.stringify(reply)}`);
  const [, day, month, date, h, min, s, year] = m;
  const when = new Date(+year, MONTHS.indexOf(month), +date, +h, +min, +s);
  assert.equal(DAYS[when.getDay()], day, 'the weekday matches the date');
  return when;
}

test('daytime over TCP, IPv6, Unix and UDP tells the time now as ctime text', async (t) => {
  const replies = await askOnEveryTransport(t, 'daytime', 'ignored\r\n');
  for (const reply of replies) {
    assert.ok(reply, 'no reply');
    const when = parseText(reply.toString());
    assert.ok(Math.abs(when.getTime() - Date.now()) < 5000, `${reply} is not now`);
  }
});

test('daytime with a pinned clock: exact text, day of month padded with a space', async (t) => {
  let now = new Date(2017, 11, 29, 19, 14, 15, 999);
  const host = await startHost(t, ['daytime=tcp://127.0.0.1:0', 'daytime=udp://127.0.0.1:0'], {
    now: () => now,
  });
  const port = portOf(host, 'daytime');
  assert.equal((await exchange(port, [])).toString(), 'Fri Dec 29 19:14:15 2017\r\n');
  now = new Date(2024, 0, 5, 3, 4, 5);
  assert.equal((await exchange(port, [])).toString(), 'Fri Jan  5 03:04:05 2024\r\n');
  const udp = await datagram(portOf(host, 'daytime', 'udp'), '');
  assert.equal(udp?.toString(), 'Fri Jan  5 03:04:05 2024\r\n');
});

test("daytime with timeFormat 'iso' sends RFC 3339 UTC time", async (t) => {
  const pinned = new Date(Date.UTC(2017, 11, 29, 19, 14, 15, 999));
  const host = await startHost(t, ['daytime=tcp://127.0.0.1:0', 'daytime=udp://127.0.0.1:0'], {
    now: () => pinned,
    timeFormat: 'iso',
  });
  assert.equal(
    (await exchange(portOf(host, 'daytime'), [])).toString(),
    '2017-12-29T19:14:15Z\r\n',
  );
  const udp = await datagram(portOf(host, 'daytime', 'udp'), '');
  assert.equal(udp?.toString(), '2017-12-29T19:14:15Z\r\n');
});

test('qotd, daytime and time free the slot of a client that never closes its side', async (t) => {
  const host = await startHost(t, [
    'qotd=tcp://127.0.0.1:0',
    'daytime=tcp://127.0.0.1:0',
    'time=tcp://127.0.0.1:0',
  ]);
  const clients = await Promise.all(host.listeners.map((l) => openClient(t, l.port as number)));
  const replies = await Promise.all(clients.map((c) => c.ended));
  assert.ok(replies[0].length > 2 && replies[1].length > 20 && replies[2].length === 4);
  // The clients keep their side open; the server cuts them after a short linger, not after
  // the five-minute idle timeout.
  await waitFor(() => host.stats.connectionsOpen === 0, 'the slots to be released', 5000);
});
