// qotd (RFC 865) over TCP, Unix and UDP: one quote under 512 characters, then close; the
// built-in quotes and the quotes-file format (`%` lines, or blank lines), with its limits.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWirecatError } from '../src/errors.js';
import { serve } from '../src/index.js';
import { BUILTIN_QUOTES, parseQuotes } from '../src/services/qotd.js';
import { askOnEveryTransport, datagram, exchange, portOf, startHost } from './helpers.js';

const BUILTIN_REPLIES = new Set(BUILTIN_QUOTES.map((q) => `${q}\r\n`));

/** RFC 865: printable ASCII, space, CR and LF only, under 512 characters. */
function assertRfc865(reply: Buffer): void {
  assert.ok(reply.length > 0 && reply.length < 512, `${reply.length} bytes`);
  assert.match(reply.toString('latin1'), /^[\x20-\x7e\r\n]+\r\n$/);
  assert.doesNotMatch(reply.toString('latin1'), /[^\r]\n/, 'every LF is part of a CRLF');
}

test('every built-in quote is a valid RFC 865 reply', () => {
  assert.ok(BUILTIN_QUOTES.length >= 2);
  for (const reply of BUILTIN_REPLIES) assertRfc865(Buffer.from(reply));
});

test('qotd over TCP, IPv6, Unix and UDP sends one built-in quote and closes', async (t) => {
  // Whatever the client sends is ignored.
  for (const reply of await askOnEveryTransport(t, 'qotd', 'give me a quote\r\n')) {
    assert.ok(reply, 'no reply');
    assertRfc865(reply);
    assert.ok(BUILTIN_REPLIES.has(reply.toString()), `not a built-in quote: ${reply}`);
  }
});

test('qotd serves the configured quotes with CRLF line endings', async (t) => {
  const quotes = parseQuotes('Only one\nquote here.\n  -- me\n');
  const host = await startHost(t, ['qotd=tcp://127.0.0.1:0', 'qotd=udp://127.0.0.1:0'], {
    quotes,
  });
  const want = 'Only one\r\nquote here.\r\n  -- me\r\n';
  assert.equal((await exchange(portOf(host, 'qotd'), [])).toString(), want);
  assert.equal((await datagram(portOf(host, 'qotd', 'udp'), ''))?.toString(), want);
});

test('parseQuotes: quotes separated by lines holding only %', () => {
  const text = 'First quote\nsecond line\n%\nSecond quote\n%\n\n%\nThird\r\n%\r\n';
  assert.deepEqual(parseQuotes(text), ['First quote\r\nsecond line', 'Second quote', 'Third']);
  // A % inside a line does not separate quotes.
  assert.deepEqual(parseQuotes('100% sure\n%\nnext'), ['100% sure', 'next']);
});

test('parseQuotes: without % lines, blank lines separate quotes', () => {
  const text = 'One\n  -- a\n\nTwo\n\n\n   \nThree\r\n\r\nFour';
  assert.deepEqual(parseQuotes(text), ['One\r\n  -- a', 'Two', 'Three', 'Four']);
});

test('parseQuotes: a quote of 512 characters or more is rejected with WIRECAT_BAD_CONFIG', () => {
  // 509 characters + CRLF = 511 on the wire: the longest RFC 865 allows.
  assert.equal(parseQuotes('a'.repeat(509))[0].length, 509);
  // With CRLF, line endings count: 3 lines of 168 → 168*3 + 2*2 + 2 = 510.
  assert.equal(parseQuotes(Array(3).fill('b'.repeat(168)).join('\n')).length, 1);
  for (const [text, size] of [
    ['a'.repeat(510), 512],
    [`ok\n%\n${'c'.repeat(600)}`, 602],
    // Characters beyond ASCII take more than one byte on the wire: 300 × 'é' is 602 bytes.
    ['é'.repeat(300), 602],
  ] as const) {
    assert.throws(
      () => parseQuotes(text, 'quotes.txt'),
      (err) =>
        isWirecatError(err, 'WIRECAT_BAD_CONFIG') &&
        err.message.includes('quotes.txt') &&
        err.message.includes(String(size)) &&
        /512/.test(err.message),
      `${size} bytes should be rejected`,
    );
  }
});

test('parseQuotes: a file with no quotes is rejected', () => {
  for (const text of ['', '\n\n', '%\n%\n']) {
    assert.throws(
      () => parseQuotes(text),
      (err) => isWirecatError(err, 'WIRECAT_BAD_CONFIG'),
    );
  }
});

test('quotes given to serve() are checked like a quotes file', async () => {
  for (const quotes of [['x'.repeat(600)], []]) {
    await assert.rejects(serve(['qotd=tcp://127.0.0.1:0'], { quotes }), (err) =>
      isWirecatError(err, 'WIRECAT_BAD_CONFIG'),
    );
  }
});
