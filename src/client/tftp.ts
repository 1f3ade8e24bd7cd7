// The TFTP client (`wirecat tftp get|put`, and tftp:// for `wirecat get`): RFC 1350 read and
// write requests with RFC 2347 options (blksize, tsize, windowsize), driven by the same
// Sender/Receiver state machines as the server, on one ephemeral UDP socket per transfer.

import { lookup } from 'node:dns/promises';
import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Writable } from 'node:stream';
import { localFileError, WirecatError } from '../errors.js';
import {
  type BlockSink,
  type BlockSource,
  FileSource,
  NetasciiSink,
  NetasciiSource,
} from '../services/tftp/blocks.js';
import { TempFileSink } from '../services/tftp/files.js';
import {
  acceptOack,
  type ClientRequestOptions,
  requestOptions,
  type TransferMode,
} from '../services/tftp/options.js';
import {
  DEFAULT_BLKSIZE,
  encodeRequest,
  MAX_BLKSIZE,
  MIN_BLKSIZE,
  OP,
  TFTP_ERROR,
} from '../services/tftp/packet.js';
import { sizeSocketBuffers } from '../services/tftp/service.js';
import {
  type Clock,
  DEFAULT_TFTP_RETRIES,
  DEFAULT_TFTP_TIMEOUT_MS,
  Receiver,
  Sender,
  systemClock,
  type TransferEnv,
  type TransferOutcome,
} from '../services/tftp/transfer.js';
import { formatHostPort } from '../transport/endpoint.js';
import { createDatagramSocket } from '../transport/listen.js';

/** The TFTP port (RFC 1350) when HOST names none. */
export const TFTP_PORT = 69;
/** Block size asked for by default: fits a 1500-byte Ethernet MTU unfragmented (RFC 2348's example). */
export const DEFAULT_CLIENT_BLKSIZE = 1_428;
/** Window asked for by default (RFC 7440); servers without windowsize just ignore it. */
export const DEFAULT_CLIENT_WINDOWSIZE = 8;
/** Largest file a get accepts unless told otherwise (the server may announce less via tsize). */
export const DEFAULT_CLIENT_MAX_BYTES = 4 * 1024 ** 3;
/** How often onProgress is called. */
export const PROGRESS_INTERVAL_MS = 200;

/** Options for tftpGet, tftpPut and fetchTftpUrl. Every field has a default. */
export interface TftpClientOptions {
  /** octet (default, bytes as they are) or netascii (line ends converted, RFC 1350). */
  mode?: TransferMode;
  /** Block size to ask for, 8..65464 (DEFAULT_CLIENT_BLKSIZE). The server may grant less. */
  blksize?: number;
  /** Window to ask for, 1..65535 (DEFAULT_CLIENT_WINDOWSIZE). */
  windowsize?: number;
  /** Retransmission timeout (DEFAULT_TFTP_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Retransmissions before giving up (DEFAULT_TFTP_RETRIES). */
  retries?: number;
  /** false: send a plain RFC 1350 request with no options (512-byte blocks, lock-step). */
  negotiate?: boolean;
  /** Get: fail with ERROR 3 past this many bytes (DEFAULT_CLIENT_MAX_BYTES). */
  maxBytes?: number;
  /** Called every PROGRESS_INTERVAL_MS and at the end with bytes moved and the size if known. */
  onProgress?(bytes: number, total: number | undefined): void;
  signal?: AbortSignal;
  /** The state machines' clock (tests). */
  clock?: Clock;
}

/** What a transfer did. */
export interface TftpTransferResult {
  /** The server as address:port (its listening port). */
  server: string;
  /** Bytes of file content moved (after netascii conversion on a get). */
  bytes: number;
  blocks: number;
  retransmits: number;
  blksize: number;
  windowsize: number;
  /** The size the server (get) or we (put) announced, when negotiated. */
  tsize: number | undefined;
  durationMs: number;
  /** bytes / durationMs, in bytes per second. */
  bytesPerSecond: number;
}

interface Target {
  address: string;
  port: number;
  family: 4 | 6;
  label: string;
}

/** HOST, HOST:PORT, [v6]:PORT or a bare IPv6 address; port TFTP_PORT when absent. */
export async function resolveTftpTarget(target: string, defaultPort = TFTP_PORT): Promise<Target> {
  let host = target.trim();
  let port = defaultPort;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracket) {
    host = bracket[1];
    if (bracket[2]) port = Number(bracket[2]);
  } else if (isIP(host) !== 6) {
    const colon = host.lastIndexOf(':');
    if (colon >= 0) {
      if (!/^\d+$/.test(host.slice(colon + 1)))
        throw new WirecatError(
          'WIRECAT_BAD_ENDPOINT',
          `bad TFTP server "${target}": the port is not a number`,
        );
      port = Number(host.slice(colon + 1));
      host = host.slice(0, colon);
    }
  }
  if (host === '' || port < 1 || port > 65_535)
    throw new WirecatError(
      'WIRECAT_BAD_ENDPOINT',
      `bad TFTP server "${target}" (forms: HOST, HOST:PORT, [IPv6]:PORT)`,
    );
  let address = host;
  if (!isIP(host)) {
    try {
      address = (await lookup(host)).address;
    } catch {
      throw new WirecatError('WIRECAT_CONNECT_REFUSED', `cannot resolve the TFTP server "${host}"`);
    }
  }
  return {
    address,
    port,
    family: isIP(address) === 6 ? 6 : 4,
    label: formatHostPort(address, port),
  };
}

function checkOptions(o: TftpClientOptions): void {
  const bad = (why: string) => new WirecatError('WIRECAT_BAD_USAGE', why);
  if (
    o.blksize !== undefined &&
    (!Number.isInteger(o.blksize) || o.blksize < MIN_BLKSIZE || o.blksize > MAX_BLKSIZE)
  )
    throw bad(`blksize must be ${MIN_BLKSIZE}..${MAX_BLKSIZE}, not ${o.blksize}`);
  if (
    o.windowsize !== undefined &&
    (!Number.isInteger(o.windowsize) || o.windowsize < 1 || o.windowsize > 65_535)
  )
    throw bad(`windowsize must be 1..65535, not ${o.windowsize}`);
  if (o.mode !== undefined && o.mode !== 'octet' && o.mode !== 'netascii')
    throw bad(`mode must be octet or netascii, not ${o.mode}`);
}

type Run =
  | { op: typeof OP.RRQ; sink: BlockSink }
  | { op: typeof OP.WRQ; source: BlockSource; size: number };

/** One transfer on its own socket: resolves with the outcome's stats, rejects with its error. */
async function transfer(
  targetText: string,
  remoteName: string,
  run: Run,
  o: TftpClientOptions,
  hooks: { attach?(receiver: Receiver): void } = {},
): Promise<TftpTransferResult> {
  checkOptions(o);
  const target = await resolveTftpTarget(targetText);
  const mode = o.mode ?? 'octet';
  const timeoutMs = o.timeoutMs ?? DEFAULT_TFTP_TIMEOUT_MS;
  const asked: ClientRequestOptions = {};
  if (o.negotiate !== false) {
    asked.blksize = o.blksize ?? DEFAULT_CLIENT_BLKSIZE;
    asked.windowsize = o.windowsize ?? DEFAULT_CLIENT_WINDOWSIZE;
    // tftpd-hpa fails a whole netascii request that carries tsize: ask only in octet mode.
    if (mode === 'octet') asked.tsize = run.op === OP.RRQ ? 0 : run.size;
  }
  const request = encodeRequest(run.op, remoteName, mode, requestOptions(asked));
  const defaults = { blksize: DEFAULT_BLKSIZE, windowsize: 1, timeoutMs };
  const socket = createDatagramSocket(target.family);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', () => {});
  const clock = o.clock ?? systemClock;
  let machine: Sender | Receiver | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const outcome = await new Promise<TransferOutcome>((resolve) => {
      const env: TransferEnv = {
        clock,
        retries: o.retries ?? DEFAULT_TFTP_RETRIES,
        peerName: 'the server',
        send: (packet, port, address) => socket.send(packet, port, address),
        done: resolve,
      };
      const start = {
        request,
        address: target.address,
        port: target.port,
        onOack: (options: Map<string, string>) => acceptOack(asked, options, timeoutMs),
      };
      machine =
        run.op === OP.RRQ
          ? new Receiver(env, defaults, start, run.sink, o.maxBytes ?? DEFAULT_CLIENT_MAX_BYTES)
          : new Sender(env, defaults, start, run.source);
      if (machine instanceof Receiver) hooks.attach?.(machine);
      const attached = machine.onParams;
      machine.onParams = (params) => {
        sizeSocketBuffers(socket, params);
        attached?.(params);
      };
      const m = machine;
      socket.on('message', (msg, rinfo) => m.receive(msg, rinfo.address, rinfo.port));
      if (o.signal) {
        onAbort = () => m.abort(TFTP_ERROR.NOT_DEFINED, 'transfer cancelled');
        if (o.signal.aborted) return onAbort();
        o.signal.addEventListener('abort', onAbort, { once: true });
      }
      if (o.onProgress) {
        const report = o.onProgress;
        progressTimer = setInterval(
          () => report(m.bytesDone, m.parameters.tsize),
          PROGRESS_INTERVAL_MS,
        );
      }
      m.start();
    });
    if (!outcome.ok) throw outcome.error;
    const s = outcome.stats;
    return {
      server: target.label,
      bytes: s.bytes,
      blocks: s.blocks,
      retransmits: s.retransmits,
      blksize: s.params.blksize,
      windowsize: s.params.windowsize,
      tsize: s.params.tsize,
      durationMs: s.durationMs,
      bytesPerSecond: s.durationMs > 0 ? (s.bytes * 1000) / s.durationMs : 0,
    };
  } finally {
    clearInterval(progressTimer);
    if (onAbort) o.signal?.removeEventListener('abort', onAbort);
    if (machine instanceof Receiver && machine.isFinished) {
      // Linger one timeout to repeat the final ACK if the server resends the last block.
      socket.unref();
      setTimeout(() => socket.close(), timeoutMs).unref();
    } else socket.close();
  }
}

function checkTsize(result: TftpTransferResult, mode: TransferMode): void {
  if (result.tsize !== undefined && mode === 'octet' && result.tsize !== result.bytes)
    throw new WirecatError(
      'WIRECAT_TFTP_SIZE_MISMATCH',
      `the server announced ${result.tsize} bytes (tsize) but sent ${result.bytes}`,
    );
}

/**
 * Download `remoteName` from a TFTP server into `localPath`. The bytes go to a temporary file
 * next to it, renamed to `localPath` only when complete and matching the announced tsize: a
 * failed transfer never leaves a half-written file under the final name.
 *
 * @example
 * const r = await tftpGet('127.0.0.1:10069', 'boot/pxelinux.0', './pxelinux.0');
 * console.log(r.bytes, r.blksize, Math.round(r.bytesPerSecond));
 * @example
 * await tftpGet('tftp.lab', 'motd.txt', 'motd.txt', { mode: 'netascii', blksize: 512 });
 */
export async function tftpGet(
  server: string,
  remoteName: string,
  localPath: string,
  options: TftpClientOptions = {},
): Promise<TftpTransferResult> {
  let file: TempFileSink;
  try {
    // Refused before any packet: otherwise the whole transfer runs, then the rename fails.
    if (statSync(localPath, { throwIfNoEntry: false })?.isDirectory())
      throw Object.assign(new Error(`${localPath} is a folder`), { code: 'EISDIR' });
    file = new TempFileSink(localPath, true, 0o666);
  } catch (err) {
    throw localFileError('write', localPath, err);
  }
  const mode = options.mode ?? 'octet';
  // The rename happens in finish(), before the last ACK: tsize is checked first.
  let expected: number | undefined;
  const sink: BlockSink = {
    write: (data) => file.write(data),
    finish: () => {
      if (expected !== undefined && mode === 'octet' && expected !== written.bytes)
        throw Object.assign(
          new WirecatError(
            'WIRECAT_TFTP_SIZE_MISMATCH',
            `the server announced ${expected} bytes (tsize) but sent ${written.bytes}`,
          ),
          { tftpCode: TFTP_ERROR.NOT_DEFINED },
        );
      file.finish();
    },
  };
  const written = countingSink(sink);
  try {
    const sinkFor = mode === 'netascii' ? new NetasciiSink(written) : written;
    const result = await transfer(server, remoteName, { op: OP.RRQ, sink: sinkFor }, options, {
      attach: (receiver) => {
        receiver.onParams = (params) => {
          expected = params.tsize;
        };
      },
    });
    return { ...result, bytes: written.bytes };
  } catch (err) {
    file.abort();
    throw err;
  }
}

function countingSink(inner: BlockSink): BlockSink & { bytes: number } {
  const sink = {
    bytes: 0,
    write(data: Buffer) {
      sink.bytes += data.length;
      return inner.write(data);
    },
    finish() {
      inner.finish?.();
    },
  };
  return sink;
}

/**
 * Upload `localPath` to a TFTP server as `remoteName` (its size goes as tsize, so a server
 * with a size limit refuses before any data moves).
 *
 * @example
 * await tftpPut('127.0.0.1:10069', './config.txt', 'uploads/config.txt');
 */
export async function tftpPut(
  server: string,
  localPath: string,
  remoteName: string,
  options: TftpClientOptions = {},
): Promise<TftpTransferResult> {
  let fd: number;
  try {
    fd = openSync(localPath, 'r');
  } catch (err) {
    throw localFileError('read', localPath, err);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile())
      throw new WirecatError('WIRECAT_BAD_USAGE', `${localPath} is not a regular file`);
    const raw = new FileSource(fd);
    const source = options.mode === 'netascii' ? new NetasciiSource(raw) : raw;
    return await transfer(server, remoteName, { op: OP.WRQ, source, size: stat.size }, options);
  } finally {
    closeSync(fd);
  }
}

/**
 * Fetch a `tftp://HOST[:PORT]/PATH` URL (RFC 3617; `;mode=netascii` accepted) into a Writable,
 * honouring its backpressure (ACKs wait for 'drain'). Does not end `output`. Verifies the
 * size against tsize. The port defaults to 69.
 *
 * @example
 * await fetchTftpUrl('tftp://127.0.0.1:10069/notes.txt', process.stdout);
 */
export async function fetchTftpUrl(
  url: string | URL,
  output: Writable,
  options: TftpClientOptions = {},
): Promise<TftpTransferResult> {
  const u = typeof url === 'string' ? parseTftpUrl(url) : url;
  if (u.protocol !== 'tftp:')
    throw new WirecatError('WIRECAT_BAD_USAGE', `${u.href} is not a tftp:// URL`);
  let path = u.pathname;
  let mode: TransferMode = options.mode ?? 'octet';
  const m = /;mode=([a-z]+)$/i.exec(path);
  if (m) {
    const asked = m[1].toLowerCase();
    if (asked !== 'octet' && asked !== 'netascii')
      throw new WirecatError('WIRECAT_BAD_USAGE', `unsupported TFTP mode "${m[1]}" in ${u.href}`);
    mode = asked;
    path = path.slice(0, m.index);
  }
  let name: string;
  try {
    name = decodeURIComponent(path.replace(/^\//, ''));
  } catch {
    throw new WirecatError('WIRECAT_BAD_USAGE', `bad percent-encoding in ${u.href}`);
  }
  if (name === '') throw new WirecatError('WIRECAT_BAD_USAGE', `${u.href} names no file`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const server =
    isIP(host) === 6 ? `[${host}]:${u.port || TFTP_PORT}` : `${host}:${u.port || TFTP_PORT}`;
  return tftpFetch(server, name, output, { ...options, mode });
}

/**
 * Download `remoteName` into a Writable, honouring its backpressure (ACKs wait for 'drain').
 * Does not end `output`. Verifies the size against tsize (after the bytes were written: a
 * stream cannot take them back; tftpGet checks before the file gets its name).
 *
 * @example
 * await tftpFetch('127.0.0.1:10069', 'notes.txt', process.stdout, { mode: 'netascii' });
 */
export async function tftpFetch(
  server: string,
  remoteName: string,
  output: Writable,
  options: TftpClientOptions = {},
): Promise<TftpTransferResult> {
  const mode = options.mode ?? 'octet';
  let receiver: Receiver | undefined;
  let lastWrite: Promise<void> = Promise.resolve();
  const sink: BlockSink = {
    write: (data) => {
      let ok = true;
      lastWrite = new Promise((resolve, reject) => {
        ok = output.write(data, (err) => (err ? reject(err) : resolve()));
      });
      lastWrite.catch(() => {});
      if (!ok) output.once('drain', () => receiver?.resume());
      return ok;
    },
  };
  const counted = countingSink(sink);
  const result = await transfer(
    server,
    remoteName,
    { op: OP.RRQ, sink: mode === 'netascii' ? new NetasciiSink(counted) : counted },
    options,
    {
      attach: (r) => {
        receiver = r;
      },
    },
  );
  await lastWrite;
  checkTsize(result, mode);
  return { ...result, bytes: counted.bytes };
}

function parseTftpUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new WirecatError(
      'WIRECAT_BAD_USAGE',
      `bad URL "${text}" (form: tftp://HOST[:PORT]/FILE)`,
    );
  }
}
