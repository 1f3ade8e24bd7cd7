// time (RFC 868) over TCP (IPv4, IPv6), Unix and UDP: 4 bytes, the seconds since
// 1900-01-01T00:00Z big-endian, then close; the 32-bit wrap in February 2036.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { askOnEveryTransport, datagram, exchange, portOf, startHost } from './helpers.js';

/** RFC 868: "2,208,988,800 corresponds to 00:00 1 Jan 1970 GMT". */
const OFFSET = 2_208_988_800;

test('time over TCP, IPv6, Unix and UDP sends 4 bytes: now, counted from 1900', async (t) => {
  // RFC 868 over UDP: the client sends an empty datagram.
  const replies = await askOnEveryTransport(t, 'time', Buffer.alloc(0));
  for (const reply of replies) {
    assert.ok(reply, 'no reply');
    assert.equal(reply.length, 4);
    const unix = reply.readUInt32BE(0) - OFFSET;
    assert.ok(Math.abs(unix - Date.now() / 1000) < 5, `${unix} is not now`);
  }
});

test('time with a pinned clock: exact bytes, whole seconds, and the 2036 wrap', async (t) => {
  let now = new Date(0);
  const host = await startHost(t, ['time=tcp://127.0.0.1:0', 'time=udp://127.0.0.1:0'], {
    now: () => now,
  });
  const tcp = portOf(host, 'time');
  const udp = portOf(host, 'time', 'udp');
  const cases: [Date, string][] = [
    [new Date(0), '83aa7e80'], // 2,208,988,800
    [new Date(Date.UTC(1900, 0, 1)), '00000000'],
    [new Date(Date.UTC(2017, 11, 29, 19, 14, 15, 999)), (1_514_574_855 + OFFSET).toString(16)],
    // 2^32 seconds after 1900 is 2036-02-07T06:28:16Z: the counter wraps to 0.
    [new Date(Date.UTC(2036, 1, 7, 6, 28, 15)), 'ffffffff'],
    [new Date(Date.UTC(2036, 1, 7, 6, 28, 16)), '00000000'],
    [new Date(Date.UTC(2036, 1, 7, 6, 28, 17)), '00000001'],
  ];
  for (const [date, hex] of cases) {
    now = date;
    assert.equal((await exchange(tcp, [])).toString('hex'), hex, date.toISOString());
    assert.equal((await datagram(udp, Buffer.alloc(0)))?.toString('hex'), hex);
  }
});
