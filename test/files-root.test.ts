// The pieces under files and http, tested directly: root confinement (FileRoot), and the
// conditional-request and Range grammars — with random inputs, since peers send anything.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { isWirecatError } from '../src/errors.js';
import { FileRoot } from '../src/services/file-root.js';
import {
  byteRange,
  etagMatches,
  notModified,
  preconditionFailed,
} from '../src/services/http-conditions.js';
import { servedTree } from './fetch-helpers.js';

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

test('FileRoot.segments: random names either yield plain segments or are refused', () => {
  const root = new FileRoot('.', { maxNameBytes: 64 });
  const atoms = ['a', 'b.txt', '..', '.', '', '/', '//', '\\', '\0', '%2e', 'é', '...'];
  const rnd = random(1);
  for (let i = 0; i < 5000; i++) {
    const n = Math.floor(rnd() * 12);
    const name = Array.from({ length: n }, () => atoms[Math.floor(rnd() * atoms.length)]).join(
      rnd() < 0.5 ? '/' : '',
    );
    try {
      const parts = root.segments(name);
      for (const p of parts) {
        assert.ok(p !== '..' && p !== '.' && p !== '', `${JSON.stringify(name)} gave ${p}`);
        assert.ok(!p.includes('/') && !p.includes('\\') && !p.includes('\0'));
      }
    } catch (err) {
      assert.ok(
        isWirecatError(err, 'WIRECAT_FILE_FORBIDDEN') ||
          isWirecatError(err, 'WIRECAT_NAME_TOO_LONG'),
        String(err),
      );
    }
  }
});

test('FileRoot.lookup/open: inside links work; links out, FIFOs and folders-as-files are refused', async (t) => {
  const tree = servedTree(t);
  execFileSync('mkfifo', [join(tree.root, 'fifo')]);
  const root = new FileRoot(tree.root);
  const inside = await root.open('/inside');
  try {
    assert.equal(inside.size, 13);
    assert.equal(inside.name, 'inside');
  } finally {
    await inside.handle.close();
  }
  for (const [name, code] of [
    ['escape', 'WIRECAT_FILE_FORBIDDEN'],
    ['escape-dir/secret.txt', 'WIRECAT_FILE_FORBIDDEN'],
    ['etc-link/passwd', 'WIRECAT_FILE_FORBIDDEN'],
    ['fifo', 'WIRECAT_FILE_FORBIDDEN'],
    ['docs', 'WIRECAT_FILE_FORBIDDEN'],
    ['missing/file', 'WIRECAT_FILE_NOT_FOUND'],
    ['hello.txt/x', 'WIRECAT_FILE_NOT_FOUND'],
  ] as const) {
    await assert.rejects(root.open(name), (err) => isWirecatError(err, code), name);
  }
  const listing = await root.list('/');
  assert.deepEqual(
    listing.entries.map((e) => e.name),
    ['docs', 'site', 'data.bin', 'hello.txt', 'inside', 'page.html'],
  );
  const small = new FileRoot(tree.root, { maxListingEntries: 2 });
  assert.equal((await small.list('')).truncated, true);
  assert.throws(() => new FileRoot(join(tree.root, 'hello.txt')), /not a readable folder/);
});

test('byteRange: random headers and sizes never give a range outside the file', () => {
  const rnd = random(2);
  const num = () => (rnd() < 0.2 ? '' : String(Math.floor(rnd() * 300)));
  for (let i = 0; i < 20_000; i++) {
    const size = Math.floor(rnd() * 200);
    const header = rnd() < 0.1 ? `items=${num()}-${num()}` : `bytes=${num()}-${num()}`;
    const r = byteRange(header, size);
    if (r === undefined || r === 'unsatisfiable') continue;
    assert.ok(
      0 <= r.start && r.start <= r.end && r.end < size,
      `${header} of ${size}: ${JSON.stringify(r)}`,
    );
  }
  assert.deepEqual(byteRange('bytes=0-4', 13), { start: 0, end: 4 });
  assert.deepEqual(byteRange('bytes=5-', 13), { start: 5, end: 12 });
  assert.deepEqual(byteRange('bytes=-3', 13), { start: 10, end: 12 });
  assert.deepEqual(byteRange('bytes=-300', 13), { start: 0, end: 12 });
  assert.deepEqual(byteRange('bytes=3-1000', 13), { start: 3, end: 12 });
  assert.equal(byteRange('bytes=13-', 13), 'unsatisfiable');
  assert.equal(byteRange('bytes=-0', 13), 'unsatisfiable');
  assert.equal(byteRange('bytes=0-0', 0), 'unsatisfiable');
  assert.equal(byteRange('bytes=5-3', 13), undefined, 'an invalid range is ignored');
  assert.equal(byteRange('bytes=0-1,3-4', 13), undefined, 'several ranges: the whole file');
  assert.equal(byteRange('lines=0-1', 13), undefined);
});

test('etag comparison and the conditional headers', () => {
  const etag = '"d-18c2"';
  assert.ok(etagMatches('"d-18c2"', etag));
  assert.ok(etagMatches('"x", W/"d-18c2"', etag), 'weak comparison ignores W/');
  assert.ok(!etagMatches('W/"d-18c2"', etag, true), 'strong comparison refuses weak tags');
  assert.ok(etagMatches('*', etag));
  assert.ok(!etagMatches('"d-18c3"', etag));
  const v = { etag, mtimeMs: Date.parse('Sat, 21 Nov 2026 00:00:00 GMT') + 400 };
  assert.ok(
    notModified({ 'if-modified-since': 'Sat, 21 Nov 2026 00:00:00 GMT' }, v),
    'sub-second mtime',
  );
  assert.ok(!notModified({ 'if-modified-since': 'Fri, 20 Nov 2026 23:59:59 GMT' }, v));
  assert.ok(!notModified({ 'if-modified-since': 'not a date' }, v), 'an invalid date is ignored');
  assert.ok(
    !notModified(
      { 'if-none-match': '"other"', 'if-modified-since': 'Sat, 21 Nov 2026 00:00:00 GMT' },
      v,
    ),
    'If-None-Match wins over If-Modified-Since',
  );
  assert.ok(preconditionFailed({ 'if-match': '"other"' }, v));
  assert.ok(!preconditionFailed({ 'if-match': etag }, v));
  assert.ok(preconditionFailed({ 'if-unmodified-since': 'Fri, 20 Nov 2026 23:59:59 GMT' }, v));
});
