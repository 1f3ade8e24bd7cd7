// `get`: send a name, get the thing — one call for http://, https:// (HTTP/1.1, RFC 9110 and
// 9112), gopher:// (RFC 1436, URLs per RFC 4266) and tftp:// (RFC 1350). HTTP responses are
// parsed by Node's own parser (node:http over a socket we dial), so every framing works —
// Content-Length, chunked with trailers, close-delimited — and the bytes still flow through
// a Conn, where --trace and --hex see them.

import http from 'node:http';
import type net from 'node:net';
import { Writable } from 'node:stream';
import { WirecatError } from '../errors.js';
import type { Conn } from '../transport/conn.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, dialStream } from '../transport/dial.js';
import { observeDirectWrites } from '../transport/direct-writes.js';
import type { Endpoint } from '../transport/endpoint.js';
import type { TlsClientConfig } from '../transport/tls.js';
import { clientConn, connect } from './connect.js';
import { DEFAULT_MAX_COLLECT_BYTES } from './session.js';
import { fetchTftpUrl } from './tftp.js';

/** Redirects followed (with `followRedirects`) before giving up. */
export const DEFAULT_MAX_REDIRECTS = 10;
/** No bytes either way for this long ends the fetch with WIRECAT_IDLE_TIMEOUT. */
export const DEFAULT_GET_IDLE_TIMEOUT_MS = 30_000;
/** The largest response head (status line and headers) accepted. */
export const DEFAULT_MAX_HEADER_BYTES = 16_384;
/** The port of gopher:// URLs that name none. */
export const GOPHER_DEFAULT_PORT = 70;

const USER_AGENT = 'wirecat/0.1.0';
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Options for `get`. */
export interface GetOptions {
  /** Where the body goes; when absent it is collected into `body` (up to maxCollectBytes). */
  output?: Writable;
  /** Called with each HTTP response head as it arrives (redirects too), before its body. */
  onHead?: (head: ResponseHead) => void;
  /** HTTP method: GET (default) or HEAD. */
  method?: 'GET' | 'HEAD';
  /** Extra request headers (HTTP). */
  headers?: Record<string, string>;
  /** Follow 301/302/303/307/308 to http:// or https:// (default false). */
  followRedirects?: boolean;
  maxRedirects?: number;
  connectTimeoutMs?: number;
  /** No bytes either way for this long fails with WIRECAT_IDLE_TIMEOUT. 0 disables. */
  idleTimeoutMs?: number;
  /** The whole fetch (redirects included) must finish within this; 0 or absent: no limit. */
  maxTimeMs?: number;
  /** https://: how to verify the server (default: system CAs, host name checked). */
  tls?: TlsClientConfig;
  maxHeaderBytes?: number;
  /** Limit for `body` when no output is given. */
  maxCollectBytes?: number;
  /** Aborts the fetch (the CLI's Ctrl-C). */
  signal?: AbortSignal;
}

/** One HTTP response head, as received. */
export interface ResponseHead {
  url: string;
  status: number;
  statusText: string;
  httpVersion: string;
  /** Header fields in the order and spelling received. */
  headers: [string, string][];
  /** The head as text: status line, header lines, the empty line (CRLF line ends). */
  text: string;
}

/** What `get` fetched. */
export interface GetResult {
  /** The final URL (after redirects). */
  url: string;
  scheme: 'http' | 'https' | 'gopher' | 'tftp';
  /** HTTP: the final status; undefined for gopher and tftp. */
  status?: number;
  head?: ResponseHead;
  /** Every URL redirected to, in order. */
  redirects: string[];
  /** The body, when no output was given. */
  body?: Buffer;
  /** Body bytes received. */
  bytes: number;
  durationMs: number;
}

function badUrl(text: string, why: string): WirecatError {
  return new WirecatError(
    'WIRECAT_BAD_URL',
    `bad URL "${text}": ${why} (forms: http://HOST[:PORT]/PATH, https://…, gopher://HOST[:PORT]/TYPE/SELECTOR, tftp://HOST[:PORT]/FILE)`,
  );
}

function parseUrl(target: string | URL): URL {
  if (target instanceof URL) return target;
  try {
    return new URL(target);
  } catch {
    throw badUrl(target, 'not a URL');
  }
}

/** The dial endpoint of a URL (IPv6 brackets removed). */
function endpointOf(url: URL, defaultPort: number, tls = false): Endpoint {
  if (url.hostname === '') throw badUrl(url.href, 'it names no host');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { transport: tls ? 'tls' : 'tcp', host, port: url.port ? Number(url.port) : defaultPort };
}

/**
 * Fetch a URL: http://, https://, gopher:// or tftp://. The body goes to `output` (or into
 * `body`); HTTP heads go to `onHead`. An HTTP error status is a result, not an exception: look
 * at `status`. Throws WirecatError for what stopped the fetch (bad URL, refused, timeout,
 * untrusted certificate, too many redirects, a response cut short).
 *
 * @example
 * const page = await get('http://127.0.0.1:10080/notes.txt');
 * page.status;           // 200
 * page.body?.toString(); // the file
 * @example
 * await get('https://example.test/', { output: process.stdout, followRedirects: true });
 * await get('gopher://127.0.0.1:10070/0/notes.txt', { output: process.stdout });
 */
export async function get(target: string | URL, options: GetOptions = {}): Promise<GetResult> {
  const url = parseUrl(target);
  const started = performance.now();
  const deadline = options.maxTimeMs ? Date.now() + options.maxTimeMs : undefined;
  switch (url.protocol) {
    case 'http:':
    case 'https:':
      return getHttp(url, options, started, deadline);
    case 'gopher:':
      return getGopher(url, options, started);
    case 'tftp:':
      return getTftp(url, options, started);
    default:
      throw badUrl(url.href, `wirecat cannot fetch ${url.protocol}// URLs`);
  }
}

/** The selector a gopher:// URL names (RFC 4266 §2.1): the path after the type character. */
export function gopherSelector(url: URL): string {
  const path = url.pathname + url.search; // `?` is an ordinary selector character in Gopher
  let selector: string;
  try {
    selector = decodeURIComponent(path.length > 2 ? path.slice(2) : '');
  } catch {
    throw badUrl(url.href, 'bad percent-encoding in the selector');
  }
  if (/[\r\n]/.test(selector)) throw badUrl(url.href, 'a selector cannot hold CR or LF');
  return selector;
}

async function getGopher(url: URL, options: GetOptions, started: number): Promise<GetResult> {
  const endpoint = endpointOf(url, GOPHER_DEFAULT_PORT);
  const result = await connect(endpoint, {
    input: `${gopherSelector(url)}\r\n`,
    output: options.output,
    connectTimeoutMs: options.connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_GET_IDLE_TIMEOUT_MS,
    maxCollectBytes: options.maxCollectBytes,
    signal: options.signal,
    label: 'get',
  });
  return {
    url: url.href,
    scheme: 'gopher',
    redirects: [],
    body: result.received,
    bytes: result.bytesReceived,
    durationMs: performance.now() - started,
  };
}

async function getTftp(url: URL, options: GetOptions, started: number): Promise<GetResult> {
  const maxCollect = options.maxCollectBytes ?? DEFAULT_MAX_COLLECT_BYTES;
  const parts: Buffer[] = [];
  let collected = 0;
  const output =
    options.output ??
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        collected += chunk.length;
        if (collected > maxCollect) {
          done(
            new WirecatError(
              'WIRECAT_BUFFER_LIMIT',
              `file larger than ${maxCollect} bytes; pass an output stream`,
            ),
          );
        } else {
          parts.push(chunk);
          done();
        }
      },
    });
  const result = await fetchTftpUrl(url, output, { signal: options.signal });
  return {
    url: url.href,
    scheme: 'tftp',
    redirects: [],
    body: options.output ? undefined : Buffer.concat(parts, collected),
    bytes: result.bytes,
    durationMs: performance.now() - started,
  };
}

async function getHttp(
  first: URL,
  options: GetOptions,
  started: number,
  deadline: number | undefined,
): Promise<GetResult> {
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const redirects: string[] = [];
  let url = first;
  for (;;) {
    const exchange = await fetchOnce(url, options, deadline);
    const location = exchange.head.headers.find(([k]) => k.toLowerCase() === 'location')?.[1];
    if (options.followRedirects && REDIRECTS.has(exchange.head.status) && location) {
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new WirecatError(
          'WIRECAT_BAD_RESPONSE',
          `${url.href} redirects to "${location}", which is not a URL`,
        );
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new WirecatError(
          'WIRECAT_BAD_RESPONSE',
          `${url.href} redirects to ${next.href}; only http:// and https:// redirects are followed`,
        );
      }
      if (redirects.length >= maxRedirects) {
        throw new WirecatError(
          'WIRECAT_TOO_MANY_REDIRECTS',
          `stopped after ${maxRedirects} redirects (the last to ${next.href}); a loop? (--max-redirs raises the limit)`,
        );
      }
      redirects.push(next.href);
      url = next;
      continue;
    }
    return {
      url: url.href,
      scheme: url.protocol === 'https:' ? 'https' : 'http',
      status: exchange.head.status,
      head: exchange.head,
      redirects,
      body: exchange.body,
      bytes: exchange.bytes,
      durationMs: performance.now() - started,
    };
  }
}

interface Exchange {
  head: ResponseHead;
  body?: Buffer;
  bytes: number;
}

function headOf(url: URL, res: http.IncomingMessage): ResponseHead {
  const headers: [string, string][] = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2)
    headers.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
  const statusText = res.statusMessage ?? '';
  const text = `HTTP/${res.httpVersion} ${res.statusCode}${statusText ? ` ${statusText}` : ''}\r\n${headers
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
  return {
    url: url.href,
    status: res.statusCode ?? 0,
    statusText,
    httpVersion: res.httpVersion,
    headers,
    text,
  };
}

function remaining(deadline: number | undefined): number | undefined {
  return deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
}

async function fetchOnce(
  url: URL,
  options: GetOptions,
  deadline: number | undefined,
): Promise<Exchange> {
  const https = url.protocol === 'https:';
  const endpoint = endpointOf(url, https ? 443 : 80, https);
  const connectMs = Math.min(
    options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    remaining(deadline) ?? Number.POSITIVE_INFINITY,
  );
  const socket = await dialStream(endpoint, connectMs, options.tls);
  const conn = clientConn(
    socket,
    endpoint,
    'get',
    options.idleTimeoutMs ?? DEFAULT_GET_IDLE_TIMEOUT_MS,
  );
  observeDirectWrites(conn); // node:http writes to the socket itself
  // node:http handles the server's FIN (the end of a close-delimited body).
  conn.start({ end: () => {} }, true);

  const left = remaining(deadline);
  const overall =
    left === undefined ? undefined : setTimeout(() => conn.abort('WIRECAT_MAX_TIME'), left);
  const onAbort = () => conn.abort('WIRECAT_ABORTED');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await exchange(url, socket, conn, options);
  } finally {
    if (overall) clearTimeout(overall);
    options.signal?.removeEventListener('abort', onAbort);
    socket.destroy();
  }
}

function exchange(
  url: URL,
  socket: net.Socket,
  conn: Conn,
  options: GetOptions,
): Promise<Exchange> {
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const maxCollect = options.maxCollectBytes ?? DEFAULT_MAX_COLLECT_BYTES;
  return new Promise<Exchange>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException, got?: http.IncomingMessage, bytes = 0) => {
      reject(httpFailure(err, url, conn, options, maxHeaderBytes, got, bytes));
    };
    const req = http.request({
      method: options.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      headers: {
        Host: url.host,
        'User-Agent': USER_AGENT,
        Accept: '*/*',
        ...options.headers,
        Connection: 'close',
      },
      createConnection: () => socket,
      maxHeaderSize: maxHeaderBytes,
    });
    req.on('error', (err) => fail(err));
    req.on('response', (res) => {
      const head = headOf(url, res);
      options.onHead?.(head);
      const following =
        options.followRedirects && REDIRECTS.has(head.status) && res.headers.location;
      if (following) {
        res.resume();
        resolve({ head, bytes: 0 });
        return;
      }
      const { output } = options;
      const parts: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (output) {
          if (!output.write(chunk)) {
            res.pause();
            output.once('drain', () => res.resume());
          }
        } else if (bytes > maxCollect) {
          res.destroy(
            new WirecatError(
              'WIRECAT_BUFFER_LIMIT',
              `body larger than ${maxCollect} bytes; pass an output stream`,
            ),
          );
        } else parts.push(chunk);
      });
      // The reader of our output went away (`| head`): stop quietly, as curl does.
      // `on`, not `once`: writes already queued fail too, each with its own EPIPE.
      output?.on('error', () => {
        res.destroy();
        resolve({ head, bytes });
      });
      res.on('error', (err) => fail(err, res, bytes));
      res.on('end', () => {
        resolve({ head, bytes, body: output ? undefined : Buffer.concat(parts, bytes) });
      });
    });
    req.end();
  });
}

/** Why an HTTP exchange stopped, as a WirecatError a user can act on. */
function httpFailure(
  err: NodeJS.ErrnoException,
  url: URL,
  conn: Conn,
  options: GetOptions,
  maxHeaderBytes: number,
  res: http.IncomingMessage | undefined,
  bytes: number,
): WirecatError {
  if (err instanceof WirecatError) return err;
  switch (conn.failure) {
    case 'WIRECAT_IDLE_TIMEOUT':
      return new WirecatError(
        'WIRECAT_IDLE_TIMEOUT',
        `${url.href}: no bytes for ${(options.idleTimeoutMs ?? DEFAULT_GET_IDLE_TIMEOUT_MS) / 1000}s; gave up (--idle-timeout)`,
      );
    case 'WIRECAT_MAX_TIME':
      return new WirecatError(
        'WIRECAT_IDLE_TIMEOUT',
        `${url.href}: not done within ${(options.maxTimeMs ?? 0) / 1000}s; gave up (--max-time)`,
      );
    case 'WIRECAT_ABORTED':
      return new WirecatError('WIRECAT_ABORTED', 'aborted');
    case 'ECONNRESET':
    case 'EPIPE':
      return new WirecatError('WIRECAT_RESET', `${url.host} reset the connection`);
  }
  const code = err.code ?? '';
  if (code === 'HPE_HEADER_OVERFLOW') {
    return new WirecatError(
      'WIRECAT_BAD_RESPONSE',
      `${url.href}: the response head is larger than ${maxHeaderBytes} bytes (--max-header-size)`,
    );
  }
  if (code.startsWith('HPE_')) {
    return new WirecatError(
      'WIRECAT_BAD_RESPONSE',
      `${url.href}: not a valid HTTP/1.x response (${(err as { reason?: string }).reason ?? err.message})`,
      { cause: err },
    );
  }
  if (res) {
    const declared = res.headers['content-length'];
    return new WirecatError(
      'WIRECAT_BAD_RESPONSE',
      `${url.href}: the connection closed in the middle of the body, after ${bytes} bytes${
        declared
          ? ` of ${declared}`
          : res.headers['transfer-encoding']
            ? ' (before the last chunk)'
            : ''
      }`,
      { cause: err },
    );
  }
  return new WirecatError(
    'WIRECAT_BAD_RESPONSE',
    `${url.href}: the server closed the connection without answering`,
    { cause: err },
  );
}
