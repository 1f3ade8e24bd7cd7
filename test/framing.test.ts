// LineDecoder and splitEnding: the bounded incremental line splitter every line service uses.
// Same lines whatever the chunking, CRLF split across chunks, the limit at exactly
// maxLineBytes, and never more than the limit (+1 for a trailing CR) held.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWirecatError } from '../src/errors.js';
import { LineDecoder, splitEnding } from '../src/framing/line-decoder.js';

/** Feed `chunks` and return every line (copied) plus what is left unfinished. */
function decode(chunks: (Buffer | string)[], max = 1024): { lines: string[]; rest?: string } {
  const decoder = new LineDecoder(max);
  const lines: string[] = [];
  for (const chunk of chunks)
    decoder.push(Buffer.from(chunk), (l) => lines.push(l.toString('latin1')));
  return { lines, rest: decoder.takePartial()?.toString('latin1') };
}

const tooLong = (err: unknown) => isWirecatError(err, 'WIRECAT_LINE_TOO_LONG');

const INPUT = Buffer.from('alpha\r\nbeta\n\n\r\ngamma \r delta\r\nlast', 'latin1');
const LINES = ['alpha\r\n', 'beta\n', '\n', '\r\n', 'gamma \r delta\r\n'];

test('every split point of a multi-line input gives the same lines', () => {
  assert.deepEqual(decode([INPUT]), { lines: LINES, rest: 'last' });
  for (let i = 0; i <= INPUT.length; i++) {
    for (let j = i; j <= INPUT.length; j++) {
      const chunks = [INPUT.subarray(0, i), INPUT.subarray(i, j), INPUT.subarray(j)];
      assert.deepEqual(decode(chunks), { lines: LINES, rest: 'last' }, `split at ${i}, ${j}`);
    }
  }
  const bytes = [...INPUT].map((b) => Buffer.from([b]));
  assert.deepEqual(decode(bytes), { lines: LINES, rest: 'last' });
});

test('a CRLF split across chunks is one CRLF ending', () => {
  const decoder = new LineDecoder(16);
  const seen: { content: string; ending: string }[] = [];
  const onLine = (line: Buffer) => {
    const { content, ending } = splitEnding(line);
    seen.push({ content: content.toString(), ending: ending.toString() });
  };
  decoder.push(Buffer.from('abc\r'), onLine);
  assert.equal(decoder.pending, 4);
  decoder.push(Buffer.from('\nxy\r'), onLine);
  decoder.push(Buffer.from('\n'), onLine);
  assert.deepEqual(seen, [
    { content: 'abc', ending: '\r\n' },
    { content: 'xy', ending: '\r\n' },
  ]);
  assert.equal(decoder.pending, 0);
});

test('a line of exactly maxLineBytes is accepted, with LF or CRLF, however it is split', () => {
  const exact = 'x'.repeat(8);
  for (const ending of ['\n', '\r\n']) {
    const whole = Buffer.from(exact + ending);
    for (let i = 0; i <= whole.length; i++) {
      const got = decode([whole.subarray(0, i), whole.subarray(i)], 8);
      assert.deepEqual(got, { lines: [exact + ending], rest: undefined }, `split at ${i}`);
    }
  }
  // Content of exactly the limit held without an ending yet is fine too.
  assert.deepEqual(decode([exact], 8), { lines: [], rest: exact });
  assert.deepEqual(decode([`${exact}\r`], 8), { lines: [], rest: `${exact}\r` });
});

test('one byte over maxLineBytes throws WIRECAT_LINE_TOO_LONG, however it is split', () => {
  const over = 'y'.repeat(9);
  for (const text of [`${over}\n`, `${over}\r\n`, over, `${'y'.repeat(8)}\rz`]) {
    const whole = Buffer.from(text);
    for (let i = 0; i <= whole.length; i++) {
      assert.throws(() => decode([whole.subarray(0, i), whole.subarray(i)], 8), tooLong, text);
    }
  }
  // The error says what the limit is.
  assert.throws(() => decode([over], 8), /longer than 8 bytes/);
});

test('after a line is refused the decoder forgets it and goes on', () => {
  const decoder = new LineDecoder(4);
  const lines: string[] = [];
  assert.throws(() => decoder.push(Buffer.from('toolong'), (l) => lines.push(`${l}`)), tooLong);
  assert.equal(decoder.pending, 0);
  decoder.push(Buffer.from('ok\n'), (l) => lines.push(`${l}`));
  assert.deepEqual(lines, ['ok\n']);
});

test('lines before an oversize one in the same chunk are still delivered', () => {
  const lines: string[] = [];
  const decoder = new LineDecoder(4);
  assert.throws(
    () => decoder.push(Buffer.from('one\ntwo\nthree-is-long\nfour\n'), (l) => lines.push(`${l}`)),
    tooLong,
  );
  assert.deepEqual(lines, ['one\n', 'two\n']);
});

test('the decoder never holds more than maxLineBytes (+1 for a trailing CR), whatever arrives', () => {
  // A small deterministic generator: bytes weighted towards 'a', CR and LF, random chunk sizes.
  let seed = 12345;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = [0x61, 0x61, 0x61, 0x61, 0x0d, 0x0a, 0x00, 0xff];
  for (const max of [1, 2, 7, 64]) {
    const decoder = new LineDecoder(max);
    for (let round = 0; round < 3000; round++) {
      const chunk = Buffer.from(
        Array.from({ length: 1 + random(3 * max) }, () => alphabet[random(alphabet.length)]),
      );
      try {
        decoder.push(chunk, (line) => {
          assert.ok(splitEnding(line).content.length <= max, 'a line over the limit was delivered');
        });
      } catch (err) {
        assert.ok(tooLong(err), String(err));
        assert.equal(decoder.pending, 0);
      }
      assert.ok(decoder.pending <= max + 1, `holding ${decoder.pending} with max ${max}`);
      if (decoder.pending === max + 1) {
        const held = decoder.takePartial() as Buffer;
        assert.equal(held[held.length - 1], 0x0d, 'only a trailing CR may go over');
      }
    }
  }
});

test('takePartial returns the unfinished line once, then nothing', () => {
  const decoder = new LineDecoder(100);
  assert.equal(decoder.takePartial(), undefined);
  decoder.push(Buffer.from('done\nhalf'), () => {});
  decoder.push(Buffer.from(' a line'), () => {});
  assert.equal(decoder.takePartial()?.toString(), 'half a line');
  assert.equal(decoder.pending, 0);
  assert.equal(decoder.takePartial(), undefined);
  // The partial is a copy: reusing the caller's chunk buffer does not change it.
  const chunk = Buffer.from('keep');
  decoder.push(chunk, () => {});
  chunk.fill(0);
  assert.equal(decoder.takePartial()?.toString(), 'keep');
});

test('maxLineBytes must be positive', () => {
  for (const bad of [0, -1, Number.NaN]) assert.throws(() => new LineDecoder(bad), RangeError);
});

test('splitEnding separates LF, CRLF or no ending', () => {
  const split = (s: string) => {
    const { content, ending } = splitEnding(Buffer.from(s));
    return [content.toString(), ending.toString()];
  };
  assert.deepEqual(split('a\n'), ['a', '\n']);
  assert.deepEqual(split('a\r\n'), ['a', '\r\n']);
  assert.deepEqual(split('a'), ['a', '']);
  assert.deepEqual(split('a\r'), ['a\r', '']);
  assert.deepEqual(split('\n'), ['', '\n']);
  assert.deepEqual(split('\r\n'), ['', '\r\n']);
  assert.deepEqual(split(''), ['', '']);
});
