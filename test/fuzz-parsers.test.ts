// Property tests (fast-check) of the small parsers that judge untrusted text: the chat
// sanitiser, the name confinement shared by Gopher/HTTP/TFTP (FileRoot.segments), the HTTP
// Range and conditional-request grammars, and the endpoint parser. Any input gives a
// documented result or the documented error; nothing unsafe ever comes out.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isWirecatError } from '../src/errors.js';
import { sanitizeLine, sanitizeText } from '../src/services/chat/sanitize.js';
import { FileRoot } from '../src/services/file-root.js';
import {
  byteRange,
  etagMatches,
  notModified,
  preconditionFailed,
} from '../src/services/http-conditions.js';
import { formatEndpoint, parseEndpoint } from '../src/transport/endpoint.js';

// Everything that can steer a terminal: C0, DEL, C1, bidi controls, line separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

test('chat sanitiser: any bytes come out with no control character, printable text unchanged', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      const text = sanitizeLine(bytes);
      assert.doesNotMatch(text, UNSAFE);
      assert.equal(sanitizeText(text), text, 'sanitising twice changes nothing');
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      const clean = s.replace(new RegExp(UNSAFE.source, 'g'), '');
      assert.equal(sanitizeText(clean), clean);
      assert.doesNotMatch(sanitizeText(s), UNSAFE);
    }),
    { numRuns: 1000 },
  );
});

/** Names built from the pieces traversal attempts are made of. */
const hostileName = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '..',
        '.',
        '',
        '/',
        '//',
        '\\',
        '\0',
        '%2e%2e',
        '..%2f',
        'é',
        '\u202e',
        'a',
        'b.txt',
      ),
      fc.string({ maxLength: 6 }),
    ),
    { maxLength: 12 },
  )
  .chain((parts) => fc.constantFrom(parts.join('/'), parts.join('')));

test('FileRoot.segments: any name gives plain segments inside the root, or FORBIDDEN / TOO_LONG', () => {
  const root = new FileRoot('.', { maxNameBytes: 64 });
  fc.assert(
    fc.property(hostileName, (name) => {
      let parts: string[];
      try {
        parts = root.segments(name);
      } catch (err) {
        assert.ok(
          isWirecatError(err, 'WIRECAT_FILE_FORBIDDEN') ||
            isWirecatError(err, 'WIRECAT_NAME_TOO_LONG'),
          String(err),
        );
        return;
      }
      for (const p of parts) {
        assert.ok(p !== '' && p !== '.' && p !== '..', `${JSON.stringify(name)} gave "${p}"`);
        assert.ok(!p.includes('/') && !p.includes('\\') && !p.includes('\0'));
      }
    }),
    { numRuns: 3000 },
  );
});

test('Range: any header and size give a range inside the file, 416, or "ignore"; exact ranges are exact', () => {
  const header = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc
      .tuple(fc.option(fc.nat(), { nil: undefined }), fc.option(fc.nat(), { nil: undefined }))
      .map(([a, b]) => `bytes=${a ?? ''}-${b ?? ''}`),
    fc.constantFrom('bytes=-', 'bytes=0-0,1-1', 'bytes= 5 - 9 ', `bytes=${'9'.repeat(400)}-`),
  );
  fc.assert(
    fc.property(header, fc.nat({ max: 1e9 }), (h, size) => {
      const r = byteRange(h, size);
      if (r === undefined || r === 'unsatisfiable') return;
      assert.ok(Number.isInteger(r.start) && Number.isInteger(r.end), JSON.stringify(r));
      assert.ok(
        0 <= r.start && r.start <= r.end && r.end < size,
        `${h} ${size} -> ${JSON.stringify(r)}`,
      );
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e9 }), fc.nat(), fc.nat(), (size, a, b) => {
      const start = a % size;
      const end = start + (b % (size - start));
      assert.deepEqual(byteRange(`bytes=${start}-${end}`, size), { start, end });
    }),
  );
});

test('conditional headers: any values never throw; the current ETag always matches, others never', () => {
  const etag = '"abc-123"';
  const v = { etag, mtimeMs: 1_700_000_000_000 };
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.constantFrom('if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'),
        fc.string({ maxLength: 60 }),
      ),
      (headers) => {
        preconditionFailed(headers, v);
        notModified(headers, v);
      },
    ),
    { numRuns: 2000 },
  );
  const otherTag = fc
    .string({ maxLength: 10 })
    .filter((s) => !s.includes('"'))
    .map((s) => `"x${s}"`);
  fc.assert(
    fc.property(fc.array(otherTag, { maxLength: 5 }), fc.boolean(), (others, weak) => {
      assert.equal(etagMatches(others.join(', '), etag), false);
      const list = [...others, `${weak ? 'W/' : ''}${etag}`].join(', ');
      assert.equal(etagMatches(list, etag), true);
      assert.equal(etagMatches(list, etag, true), !weak, 'strong comparison ignores weak tags');
    }),
  );
});

const ipv4 = fc.ipV4();
const ipv6 = fc.ipV6();

test('endpoints: any text parses or is WIRECAT_BAD_ENDPOINT; formatted endpoints parse back the same', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 40 }),
        fc
          .tuple(
            fc.constantFrom('tcp://', 'udp://', 'tls://', 'unix:', 'http://', ''),
            fc.string({ maxLength: 30 }),
          )
          .map(([s, r]) => s + r),
      ),
      (text) => {
        try {
          const e = parseEndpoint(text);
          if (e.transport === 'unix') assert.ok(e.path !== '' && !e.path.includes('\0'));
          else assert.ok(Number.isInteger(e.port) && e.port >= 0 && e.port <= 65_535);
        } catch (err) {
          assert.ok(isWirecatError(err, 'WIRECAT_BAD_ENDPOINT'), String(err));
        }
      },
    ),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(
      fc.constantFrom('tcp', 'udp', 'tls') as fc.Arbitrary<'tcp' | 'udp' | 'tls'>,
      fc.oneof(ipv4, ipv6, fc.domain()),
      fc.integer({ min: 0, max: 65_535 }),
      (transport, host, port) => {
        const endpoint = { transport, host, port };
        assert.deepEqual(parseEndpoint(formatEndpoint(endpoint)), endpoint);
      },
    ),
    { numRuns: 1000 },
  );
});
