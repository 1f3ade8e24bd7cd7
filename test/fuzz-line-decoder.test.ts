// Property tests (fast-check) of LineDecoder, the framing under every line service, the chat
// room and the Gopher selector: any split of any valid input gives the same lines; any input,
// split anyhow, never makes it hold more than maxLineBytes (+1 for a trailing CR), and the
// only thing it ever throws is WIRECAT_LINE_TOO_LONG.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isWirecatError } from '../src/errors.js';
import { LineDecoder } from '../src/framing/line-decoder.js';

/** Cut `bytes` at the given offsets (any order, duplicates allowed) into chunks. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const c of at) {
    chunks.push(bytes.subarray(from, c));
    from = c;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

/** Decode chunks: every line (copied, as latin1) and the unfinished rest. */
function decode(chunks: Buffer[], max: number): { lines: string[]; rest: string } {
  const decoder = new LineDecoder(max);
  const lines: string[] = [];
  for (const chunk of chunks) decoder.push(chunk, (l) => lines.push(l.toString('latin1')));
  return { lines, rest: decoder.takePartial()?.toString('latin1') ?? '' };
}

const MAX = 64;
/** A line's content: any bytes but LF, short enough even when it ends in CR. */
const content = fc
  .uint8Array({ maxLength: MAX - 1 })
  .map((a) => Buffer.from(a.map((b) => (b === 0x0a ? 0x20 : b))));
const ending = fc.constantFrom('\n', '\r\n');
const validInput = fc.record({
  lines: fc.array(fc.tuple(content, ending), { maxLength: 20 }),
  rest: content,
});

test('any split of any valid input decodes to the same lines and rest', () => {
  fc.assert(
    fc.property(validInput, fc.array(fc.nat(), { maxLength: 30 }), ({ lines, rest }, cuts) => {
      const whole = Buffer.concat([
        ...lines.map(([c, e]) => Buffer.concat([c, Buffer.from(e)])),
        rest,
      ]);
      const expected = {
        lines: lines.map(([c, e]) => c.toString('latin1') + e),
        rest: rest.toString('latin1'),
      };
      assert.deepEqual(decode([whole], MAX), expected);
      assert.deepEqual(decode(split(whole, cuts), MAX), expected);
    }),
    { numRuns: 500 },
  );
});

test('any input, any split, any limit: holds at most the limit (+1 CR), throws only WIRECAT_LINE_TOO_LONG', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 2000 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      fc.integer({ min: 1, max: 300 }),
      (bytes, cuts, max) => {
        const decoder = new LineDecoder(max);
        let refused = 0;
        for (const chunk of split(Buffer.from(bytes), cuts)) {
          try {
            decoder.push(chunk, (line) => {
              // Content (without LF or CRLF) is never over the limit.
              const end = line.length >= 2 && line[line.length - 2] === 0x0d ? 2 : 1;
              assert.ok(line.length - end <= max, `a ${line.length}-byte line passed`);
            });
          } catch (err) {
            assert.ok(isWirecatError(err, 'WIRECAT_LINE_TOO_LONG'), String(err));
            refused++;
            assert.equal(decoder.pending, 0, 'a refused line is forgotten');
          }
          assert.ok(decoder.pending <= max + 1, `holding ${decoder.pending} bytes, limit ${max}`);
        }
        return refused >= 0;
      },
    ),
    { numRuns: 500 },
  );
});
