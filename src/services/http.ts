// http: serve a folder read-only over HTTP/1.1 (RFC 9110, 9111, 9112). node:http parses the
// requests; this file decides the answers: content types, HEAD, 404/403, conditional GET
// (ETag, Last-Modified → 304), ranges (206/416), folder index, all inside the root
// (file-root.ts). The Host hands each accepted socket to one node:http Server.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { isWirecatError, WirecatError } from '../errors.js';
import type { Conn, StreamHandler } from '../transport/conn.js';
import { observeDirectWrites } from '../transport/direct-writes.js';
import { contentTypeOf } from './content-types.js';
import {
  type FileRoot,
  fileRootFor,
  type Listing,
  type OpenedFile,
  type RootEntry,
} from './file-root.js';
import { byteRange, etagMatches, notModified, preconditionFailed } from './http-conditions.js';
import type { Service, ServiceDefinition, ServiceSettings } from './service.js';

const TEXT = 'text/plain; charset=utf-8';

/**
 * node:http's slowloris timers from Limits.requestTimeoutMs: the request head within it, the
 * whole request within twice it (then 408 and a close), checked a few times per deadline.
 */
function requestTimers(requestTimeoutMs: number): http.ServerOptions {
  if (!(requestTimeoutMs > 0)) return { headersTimeout: 0, requestTimeout: 0 };
  return {
    headersTimeout: requestTimeoutMs,
    requestTimeout: 2 * requestTimeoutMs,
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, requestTimeoutMs / 4)),
  };
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** The HTML listing of a folder (names escaped, links percent-encoded). */
export function htmlListing(urlPath: string, listing: Listing): string {
  const title = escapeHtml(urlPath);
  const rows = listing.entries.map((e) => {
    const slash = e.kind === 'directory' ? '/' : '';
    const size = e.kind === 'directory' ? '-' : String(e.size);
    return `<li><a href="${encodeURIComponent(e.name)}${slash}">${escapeHtml(e.name)}${slash}</a> ${size}</li>`;
  });
  if (urlPath !== '/') rows.unshift('<li><a href="../">../</a></li>');
  if (listing.truncated) rows.push('<li>(more entries not listed)</li>');
  return `<!doctype html>\n<meta charset="utf-8">\n<title>Index of ${title}</title>\n<h1>Index of ${title}</h1>\n<ul>\n${rows.join('\n')}\n</ul>\n`;
}

/** The request path as a name inside the root, or undefined when it cannot be decoded. */
function requestName(pathname: string): string | undefined {
  const parts: string[] = [];
  for (const raw of pathname.split('/')) {
    let part: string;
    try {
      part = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    // An encoded slash would smuggle a separator past the split: refuse it.
    if (part.includes('/')) return '\0';
    parts.push(part);
  }
  return parts.join('/');
}

function statusFor(err: WirecatError): number {
  switch (err.code) {
    case 'WIRECAT_FILE_NOT_FOUND':
      return 404;
    case 'WIRECAT_NAME_TOO_LONG':
      return 414;
    case 'WIRECAT_FILE_FORBIDDEN':
    case 'WIRECAT_FILE_TOO_LARGE':
      return 403;
    default:
      return 500;
  }
}

function reply(
  res: ServerResponse,
  status: number,
  body: string,
  headers: http.OutgoingHttpHeaders = {},
): void {
  const bytes = Buffer.from(body);
  res.writeHead(status, {
    'Content-Type': TEXT,
    'Content-Length': bytes.length,
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

/** The request handler for a folder: what `serve http --root DIR` answers. */
export function staticFiles(root: FileRoot): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    answer(root, req, res).catch((err) => {
      if (res.headersSent) res.destroy(err);
      else reply(res, 500, 'internal error\n');
    });
  };
}

async function answer(root: FileRoot, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return reply(res, 405, 'only GET and HEAD: this server is read-only\n', { Allow: 'GET, HEAD' });
  }
  const target = req.url ?? '';
  if (!target.startsWith('/')) return reply(res, 400, 'bad request target\n');
  const query = target.search(/[?#]/);
  const pathname = query < 0 ? target : target.slice(0, query);
  const name = requestName(pathname);
  if (name === undefined) return reply(res, 400, 'bad percent-encoding in the path\n');
  try {
    let entry = await root.lookup(name);
    if (entry.kind === 'directory') {
      if (!pathname.endsWith('/')) {
        const location = `${pathname}/${query < 0 ? '' : target.slice(query)}`;
        return reply(res, 301, `moved to ${location}\n`, { Location: location });
      }
      const index = await lookupOptional(root, `${name}/index.html`);
      if (index?.kind !== 'file') return listFolder(root, entry, pathname, name, res);
      entry = index;
    }
    await sendFile(req, res, await root.open(entry.name, entry));
  } catch (err) {
    if (!(err instanceof WirecatError)) throw err;
    reply(res, statusFor(err), `${err.message}\n`);
  }
}

async function lookupOptional(root: FileRoot, name: string): Promise<RootEntry | undefined> {
  try {
    return await root.lookup(name);
  } catch (err) {
    if (isWirecatError(err)) return undefined;
    throw err;
  }
}

async function listFolder(
  root: FileRoot,
  entry: RootEntry,
  pathname: string,
  name: string,
  res: ServerResponse,
): Promise<void> {
  const html = Buffer.from(htmlListing(pathname, await root.list(name, entry)));
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': html.length,
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(res.req.method === 'HEAD' ? undefined : html);
}

async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: OpenedFile,
): Promise<void> {
  let streaming = false;
  try {
    const etag = `"${file.size.toString(16)}-${Math.floor(file.mtimeMs).toString(16)}"`;
    const lastModified = new Date(file.mtimeMs).toUTCString();
    const headers: http.OutgoingHttpHeaders = {
      ETag: etag,
      'Last-Modified': lastModified,
      'Cache-Control': 'no-cache',
      'Accept-Ranges': 'bytes',
    };
    const validators = { etag, mtimeMs: file.mtimeMs };
    if (preconditionFailed(req.headers, validators))
      return reply(res, 412, 'precondition failed\n', headers);
    if (notModified(req.headers, validators)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    // If-Range: a client resuming an old copy gets the whole new file instead of a wrong piece.
    const ifRange = req.headers['if-range'] as string | undefined;
    const rangeApplies =
      req.method === 'GET' &&
      req.headers.range !== undefined &&
      (ifRange === undefined ||
        (ifRange.startsWith('"') ? etagMatches(ifRange, etag, true) : ifRange === lastModified));
    const range = rangeApplies ? byteRange(req.headers.range as string, file.size) : undefined;
    if (range === 'unsatisfiable') {
      return reply(res, 416, 'range not satisfiable\n', {
        ...headers,
        'Content-Range': `bytes */${file.size}`,
      });
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? file.size - 1;
    res.writeHead(range ? 206 : 200, {
      ...headers,
      'Content-Type': contentTypeOf(file.name),
      'Content-Length': end - start + 1,
      'X-Content-Type-Options': 'nosniff',
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${file.size}` } : {}),
    });
    if (req.method === 'HEAD' || file.size === 0) {
      res.end();
      return;
    }
    // The stream reads ahead at most its highWaterMark and pauses while the socket is full.
    const body = file.handle.createReadStream({ start, end, autoClose: true });
    streaming = true;
    pipeline(body, res, () => {});
  } finally {
    if (!streaming) await file.handle.close();
  }
}

/** The http service: a read-only folder over HTTP/1.1. Needs `root`. */
export const httpFiles: ServiceDefinition = {
  name: 'http',
  summary: 'serve a folder read-only over HTTP/1.1 (ranges, 304s, listings); needs --root DIR',
  spec: 'RFC 9110',
  defaultPort: 10080,
  udp: false,
  optIn: true,
  create(settings: ServiceSettings): Service {
    const root = fileRootFor('http', settings);
    const server = http.createServer(
      requestTimers(settings.limits.requestTimeoutMs),
      staticFiles(root),
    );
    // node:http enforces those timeouts from a timer it starts on 'listening'; this server
    // never listens itself (the Host hands it sockets), so start that timer (unref'd) here.
    server.emit('listening');
    // A client that half-closes after its request (printf … | nc) still gets the answer.
    (server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    const handler: StreamHandler = { end: () => {} }; // node:http handles the peer's FIN
    return {
      name: 'http',
      needsSocketStream: true,
      openStream(conn: Conn) {
        observeDirectWrites(conn);
        // node:http would read the socket's handle directly (bypassing 'data' events, so the
        // Conn would count and trace nothing in); marking it consumed keeps reads visible.
        const handle = (conn.socket as unknown as { _handle?: { _consumed?: boolean } })._handle;
        if (handle) handle._consumed = true;
        server.emit('connection', conn.socket);
        return handler;
      },
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  },
};
