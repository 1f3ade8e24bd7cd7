// What a correct classic-service reply looks like, as pure functions on bytes: chargen's
// rotating lines (RFC 864), qotd's bound (RFC 865), daytime's text (RFC 867) and time's
// 1900-epoch seconds (RFC 868). Each returns undefined when fine, or what is wrong.

import { RFC868_EPOCH_OFFSET } from '../services/time.js';

/** How far a server's clock may be from ours before time/daytime fail. */
export const DEFAULT_MAX_CLOCK_SKEW_S = 300;

const CHARGEN_LINE = 72;

/** Printable ASCII, space, tab, CR and LF only (RFC 865/867 "ASCII printing characters"). */
export function nonPrintable(data: Uint8Array): string | undefined {
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if ((b < 0x20 || b > 0x7e) && b !== 0x0d && b !== 0x0a && b !== 0x09)
      return `byte ${i} is 0x${b.toString(16).padStart(2, '0')}, not printable ASCII`;
  }
  return undefined;
}

/**
 * RFC 864's pattern: lines of 72 printable characters and CRLF, each starting one character
 * later in the 95-character printable set than the one before. A partial first or last line
 * (a stream read from the middle) is allowed; the lines between must be whole.
 */
export function chargenProblem(
  data: Buffer,
  options: { wholeLines?: boolean } = {},
): string | undefined {
  const text = data.toString('latin1');
  const lines = text.split('\r\n');
  const tail = lines.pop() ?? '';
  if (options.wholeLines && tail !== '') return 'the reply does not end with CRLF';
  if (lines.length === 0) return 'no complete line (no CRLF)';
  let previous: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const bad = nonPrintable(Buffer.from(line, 'latin1'));
    if (bad) return `line ${i + 1}: ${bad}`;
    if (line.length !== CHARGEN_LINE) {
      if (i === 0 && !options.wholeLines && line.length < CHARGEN_LINE) continue;
      return `line ${i + 1} has ${line.length} characters, not ${CHARGEN_LINE}`;
    }
    for (let j = 1; j < line.length; j++) {
      if (rotate(line.charCodeAt(j - 1)) !== line.charCodeAt(j))
        return `line ${i + 1} breaks the rotating pattern at column ${j + 1}`;
    }
    const first = line.charCodeAt(0);
    if (previous !== undefined && rotate(previous) !== first)
      return `line ${i + 1} does not start one character after line ${i}`;
    previous = first;
  }
  return undefined;
}

function rotate(code: number): number {
  return code === 0x7e ? 0x20 : code + 1;
}

/** RFC 868: the 4 bytes against `now`. Says what is wrong, including the Unix-epoch mistake. */
export function timeProblem(
  data: Buffer,
  now: Date,
  maxSkewS = DEFAULT_MAX_CLOCK_SKEW_S,
): string | undefined {
  if (data.length !== 4) return `${data.length} bytes, not 4`;
  const value = data.readUInt32BE(0);
  const unixNow = Math.floor(now.getTime() / 1000);
  const expected = (unixNow + RFC868_EPOCH_OFFSET) % 2 ** 32; // wraps in 2036, as the RFC's does
  const skew = circularDistance(value, expected);
  if (skew <= maxSkewS) return undefined;
  const decoded = new Date((value - RFC868_EPOCH_OFFSET) * 1000).toISOString().slice(0, 19);
  if (circularDistance(value, unixNow % 2 ** 32) <= maxSkewS)
    return `${value} is Unix time (1970 epoch), not seconds since 1900: it decodes as ${decoded}Z`;
  return `${value} decodes as ${decoded}Z, ${skew} s from our clock`;
}

function circularDistance(a: number, b: number): number {
  const d = Math.abs(a - b);
  return Math.min(d, 2 ** 32 - d);
}

const MONTHS = 'jan feb mar apr may jun jul aug sep oct nov dec'.split(' ');

/**
 * RFC 867 fixes no syntax; these are the common ones: ctime (`Wed Dec 29 19:14:15 2017`),
 * RFC 3339, RFC 822/1123 and `20 NOV 2026 21:43:30 UTC` (xinetd). Undefined when unknown.
 */
export function parseDaytime(text: string): Date[] | undefined {
  const t = text.trim();
  const iso = Date.parse(t);
  if (/^\d{4}-\d\d-\d\dT/.test(t) && !Number.isNaN(iso)) return [new Date(iso)];
  const m =
    /(\d{1,2})[ -]([A-Za-z]{3})[a-z]*[ -](\d{2,4})[ ,]+(\d\d):(\d\d):(\d\d)/.exec(t) ??
    /([A-Za-z]{3})[a-z]* +(\d{1,2})[ ,]+(\d\d):(\d\d):(\d\d) +(\d{4})/.exec(t);
  if (!m) return undefined;
  let day: number;
  let month: number;
  let year: number;
  let clock: number[];
  if (/^\d/.test(m[1])) {
    [day, month, year] = [Number(m[1]), MONTHS.indexOf(m[2].toLowerCase()), Number(m[3])];
    clock = [m[4], m[5], m[6]].map(Number);
  } else {
    [month, day, year] = [MONTHS.indexOf(m[1].toLowerCase()), Number(m[2]), Number(m[6])];
    clock = [m[3], m[4], m[5]].map(Number);
  }
  if (month < 0) return undefined;
  if (year < 100) year += 2000;
  // No zone is reliable (ctime is local time): try it as UTC and as our local time.
  const utc = new Date(Date.UTC(year, month, day, clock[0], clock[1], clock[2]));
  const local = new Date(year, month, day, clock[0], clock[1], clock[2]);
  return [utc, local];
}

/** RFC 867 text against `now`: undefined when it parses and is near, else what is wrong. */
export function daytimeProblem(
  text: string,
  now: Date,
  maxSkewS = DEFAULT_MAX_CLOCK_SKEW_S,
): string | 'unknown-format' | undefined {
  const dates = parseDaytime(text);
  if (!dates) return 'unknown-format';
  const best = Math.min(...dates.map((d) => Math.abs(d.getTime() - now.getTime()) / 1000));
  return best <= maxSkewS ? undefined : `"${text.trim()}" is ${Math.round(best)} s from our clock`;
}
