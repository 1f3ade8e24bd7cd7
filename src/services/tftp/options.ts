// TFTP option negotiation (RFC 2347) for blksize (RFC 2348), timeout and tsize (RFC 2349)
// and windowsize (RFC 7440): what a server accepts and answers in its OACK, and what a client
// accepts from an OACK. Pure functions; no I/O.

import {
  DEFAULT_BLKSIZE,
  MAX_BLKSIZE,
  MIN_BLKSIZE,
  type RequestPacket,
  TFTP_ERROR,
} from './packet.js';

/** RFC 7440 bounds. */
export const MIN_WINDOWSIZE = 1;
export const MAX_WINDOWSIZE = 65_535;
/** RFC 2349 bounds, in seconds. */
export const MIN_TIMEOUT_S = 1;
export const MAX_TIMEOUT_S = 255;

/** The two modes we move (RFC 1350 `mail` is obsolete and refused). */
export type TransferMode = 'octet' | 'netascii';

/** What a transfer runs with once negotiation is over. */
export interface TransferParams {
  blksize: number;
  windowsize: number;
  /** Retransmission timeout. */
  timeoutMs: number;
  /** The size announced by tsize (RRQ: the file's; WRQ: the client's), when negotiated. */
  tsize?: number;
}

/** A refusal: the ERROR code and message to send. */
export interface Refusal {
  code: number;
  message: string;
}

/** Server-side limits on what a client may ask for. */
export interface ServerNegotiationLimits {
  maxBlksize: number;
  maxWindowsize: number;
  /** windowsize × blksize is capped to this (the window is held in memory and in the socket buffer). */
  maxWindowBytes: number;
  /** Used when the client sends no timeout option. */
  defaultTimeoutMs: number;
  /** WRQ: a tsize above this is refused with ERROR 3 before any data moves. */
  maxFileSize: number;
}

const DIGITS = /^\d{1,10}$/;

/** The mode of a request, or a refusal for `mail` and unknown modes. */
export function parseMode(mode: string): TransferMode | Refusal {
  if (mode === 'octet' || mode === 'netascii') return mode;
  if (mode === 'mail')
    return { code: TFTP_ERROR.ILLEGAL_OPERATION, message: 'mail mode is not supported' };
  return {
    code: TFTP_ERROR.ILLEGAL_OPERATION,
    message: `unknown transfer mode "${mode}" (use octet or netascii)`,
  };
}

/**
 * Decide the options of a request. Returns the parameters and the OACK entries (empty:
 * send no OACK), or a refusal (ERROR 8 for out-of-range values as RFC 2347 allows, ERROR 3
 * for a WRQ tsize over the size limit).
 *
 * Choices: blksize above the limit is clamped, not refused (like tftpd-hpa); tsize is
 * omitted for netascii (the converted size is unknown without a pass over the file) and for
 * an empty file (curl rejects `tsize 0`); a non-numeric tsize (atftp sends "enable") and
 * unknown options are ignored; the client's spelling of each name is echoed.
 */
export function negotiateServer(
  request: RequestPacket,
  mode: TransferMode,
  fileSize: number | undefined,
  limits: ServerNegotiationLimits,
): { params: TransferParams; oack: [string, string][] } | Refusal {
  const params: TransferParams = {
    blksize: DEFAULT_BLKSIZE,
    windowsize: 1,
    timeoutMs: limits.defaultTimeoutMs,
  };
  const oack: [string, string][] = [];
  const echo = (key: string, value: number) =>
    oack.push([request.optionNames.get(key) ?? key, String(value)]);
  const o = request.options;
  const refuse = (key: string, why: string): Refusal => ({
    code: TFTP_ERROR.OPTION_REFUSED,
    message: `option ${key}=${o.get(key)} refused: ${why}`,
  });
  if (o.has('blksize')) {
    const v = o.get('blksize')!;
    if (!DIGITS.test(v) || Number(v) < MIN_BLKSIZE)
      return refuse('blksize', `must be a number ${MIN_BLKSIZE}..${MAX_BLKSIZE}`);
    params.blksize = Math.min(Number(v), limits.maxBlksize, MAX_BLKSIZE);
    echo('blksize', params.blksize);
  }
  if (o.has('timeout')) {
    const v = o.get('timeout')!;
    const n = Number(v);
    if (!DIGITS.test(v) || n < MIN_TIMEOUT_S || n > MAX_TIMEOUT_S)
      return refuse('timeout', `must be ${MIN_TIMEOUT_S}..${MAX_TIMEOUT_S} seconds`);
    params.timeoutMs = n * 1000;
    echo('timeout', n);
  }
  if (o.has('tsize') && DIGITS.test(o.get('tsize')!)) {
    if (request.op === 2) {
      const n = Number(o.get('tsize'));
      if (n > limits.maxFileSize)
        return {
          code: TFTP_ERROR.DISK_FULL,
          message: `file too large: ${n} bytes, this server accepts at most ${limits.maxFileSize}`,
        };
      params.tsize = n;
      echo('tsize', n);
    } else if (mode === 'octet' && fileSize !== undefined && fileSize > 0) {
      params.tsize = fileSize;
      echo('tsize', fileSize);
    }
  }
  if (o.has('windowsize')) {
    const v = o.get('windowsize')!;
    const n = Number(v);
    if (!DIGITS.test(v) || n < MIN_WINDOWSIZE || n > MAX_WINDOWSIZE)
      return refuse('windowsize', `must be ${MIN_WINDOWSIZE}..${MAX_WINDOWSIZE}`);
    const byBytes = Math.max(1, Math.floor(limits.maxWindowBytes / params.blksize));
    params.windowsize = Math.min(n, limits.maxWindowsize, byBytes);
    echo('windowsize', params.windowsize);
  }
  return { params, oack };
}

/** What a client asks for (lower-case names; values as numbers). */
export interface ClientRequestOptions {
  blksize?: number;
  windowsize?: number;
  /** Seconds, sent as the RFC 2349 timeout option. */
  timeout?: number;
  /** RRQ: 0 (ask for the size); WRQ: the size we will send. */
  tsize?: number;
}

/** The option list of a request, in a fixed order. */
export function requestOptions(asked: ClientRequestOptions): [string, string][] {
  const out: [string, string][] = [];
  for (const key of ['blksize', 'timeout', 'tsize', 'windowsize'] as const) {
    const v = asked[key];
    if (v !== undefined) out.push([key, String(v)]);
  }
  return out;
}

/**
 * Check a server's OACK against what we asked. The server may only lower blksize and
 * windowsize, and may not add options we did not send (RFC 2347). Missing options take the
 * RFC 1350 defaults.
 */
export function acceptOack(
  asked: ClientRequestOptions,
  oack: Map<string, string>,
  timeoutMs: number,
): TransferParams | Refusal {
  const params: TransferParams = { blksize: DEFAULT_BLKSIZE, windowsize: 1, timeoutMs };
  const refuse = (why: string): Refusal => ({ code: TFTP_ERROR.OPTION_REFUSED, message: why });
  for (const [key, value] of oack) {
    const wanted = asked[key as keyof ClientRequestOptions];
    if (wanted === undefined)
      return refuse(`the server answered option "${key}", which we did not ask for`);
    if (!DIGITS.test(value)) return refuse(`the server answered ${key}=${value}, not a number`);
    const n = Number(value);
    if (key === 'blksize') {
      if (n < MIN_BLKSIZE || n > wanted)
        return refuse(`the server answered blksize ${n}, we asked ${wanted}`);
      params.blksize = n;
    } else if (key === 'windowsize') {
      if (n < MIN_WINDOWSIZE || n > wanted)
        return refuse(`the server answered windowsize ${n}, we asked ${wanted}`);
      params.windowsize = n;
    } else if (key === 'timeout') {
      if (n < MIN_TIMEOUT_S || n > MAX_TIMEOUT_S) return refuse(`the server answered timeout ${n}`);
    } else if (key === 'tsize') params.tsize = n;
  }
  return params;
}

/** True when a negotiation result is a refusal. */
export function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && 'code' in x && 'message' in x;
}
