// The small header grammars a static file server must judge: conditional requests
// (RFC 9110 §13: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since) and byte
// ranges (RFC 9110 §14.1.2). Pure functions, so the tests can throw odd headers at them.

import type { IncomingHttpHeaders } from 'node:http';

/** The validators of the file being served. */
export interface Validators {
  /** A strong entity tag, quotes included: `"1f-18c2"`. */
  etag: string;
  mtimeMs: number;
}

const ENTITY_TAG = /(W\/)?"[^"]*"/g;

/**
 * True when `header` (an If-Match / If-None-Match / If-Range value) lists `etag`, or is `*`.
 * Strong comparison (If-Match, If-Range) never matches a weak tag; weak comparison ignores W/.
 */
export function etagMatches(header: string, etag: string, strong = false): boolean {
  if (header.trim() === '*') return true;
  for (const match of header.matchAll(ENTITY_TAG)) {
    const weak = match[1] !== undefined;
    if (strong && weak) continue;
    if (match[0].slice(weak ? 2 : 0) === etag) return true;
  }
  return false;
}

// HTTP dates have whole seconds; a file's mtime has fractions that must not count as "newer".
function modifiedAfter(mtimeMs: number, httpDate: string): boolean | undefined {
  const date = Date.parse(httpDate);
  if (Number.isNaN(date)) return undefined; // an invalid date is ignored (RFC 9110 §13.1.3)
  return Math.floor(mtimeMs / 1000) * 1000 > date;
}

/** True when If-Match or If-Unmodified-Since fail (answer 412). */
export function preconditionFailed(headers: IncomingHttpHeaders, v: Validators): boolean {
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) return !etagMatches(ifMatch, v.etag, true);
  const ifUnmodified = headers['if-unmodified-since'];
  if (ifUnmodified !== undefined) return modifiedAfter(v.mtimeMs, ifUnmodified) === true;
  return false;
}

/** True when If-None-Match or If-Modified-Since say the client's copy is current (answer 304). */
export function notModified(headers: IncomingHttpHeaders, v: Validators): boolean {
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) return etagMatches(ifNoneMatch, v.etag);
  const ifModified = headers['if-modified-since'];
  if (ifModified !== undefined) return modifiedAfter(v.mtimeMs, ifModified) === false;
  return false;
}

/** An inclusive byte range inside a file. */
export interface ByteRange {
  start: number;
  end: number;
}

const RANGE = /^bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i;

/**
 * The one byte range a Range header asks for: a range, 'unsatisfiable' (answer 416), or
 * undefined when the header is to be ignored (bad syntax, another unit, several ranges:
 * the whole file is then sent with 200, which RFC 9110 §14.2 allows).
 */
export function byteRange(header: string, size: number): ByteRange | 'unsatisfiable' | undefined {
  const match = RANGE.exec(header);
  if (!match) return undefined;
  const [, first, last] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}
