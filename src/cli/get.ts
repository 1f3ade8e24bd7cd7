// `wirecat get URL`: fetch one name — http://, https://, gopher://, tftp:// — body to stdout.

import { createWriteStream, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import {
  DEFAULT_GET_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_REDIRECTS,
  type GetResult,
  get,
} from '../client/get.js';
import { localFileError } from '../errors.js';
import { parseCommandLine, parseCount, parseDuration, parseSize, usageError } from './args.js';
import { EXIT } from './exit-codes.js';
import { clientTlsFrom, TLS_CLIENT_HELP, TLS_CLIENT_OPTIONS } from './tls-options.js';
import { applyTrace, TRACE_HELP, TRACE_OPTIONS } from './trace-option.js';

const OPTIONS = {
  include: { type: 'boolean', short: 'i' },
  head: { type: 'boolean', short: 'I' },
  location: { type: 'boolean', short: 'L' },
  'max-redirs': { type: 'string' },
  header: { type: 'string', short: 'H', multiple: true },
  output: { type: 'string', short: 'o' },
  'connect-timeout': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'max-time': { type: 'string', short: 'm' },
  'max-header-size': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  ...TLS_CLIENT_OPTIONS,
  ...TRACE_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

const HELP = `Usage: wirecat get URL [options]

Fetches one URL and writes the body to stdout, unchanged (binary-safe):
  http://HOST[:PORT]/PATH      HTTP/1.1 GET; any framing (Content-Length, chunked, until close)
  https://HOST[:PORT]/PATH     the same over TLS; the certificate is verified (system CAs or --ca)
  gopher://HOST[:PORT]/T/SEL   Gopher (RFC 1436): sends the selector SEL, prints the file or menu
  tftp://HOST[:PORT]/FILE      TFTP (RFC 1350) read request

Options:
  -i, --include        print the response head (status line and headers) before the body
  -I, --head           send HEAD instead of GET and print the head
  -L, --location       follow redirects (301, 302, 303, 307, 308) to http:// and https://
  --max-redirs N       give up after N redirects (default ${DEFAULT_MAX_REDIRECTS}); exit 1
  -H, --header 'K: V'  add a request header (repeatable)
  -o, --output FILE    write the body to FILE instead of stdout
  --connect-timeout T  give up connecting after T (default 10s)
  --idle-timeout T     give up after T with no bytes either way (default ${DEFAULT_GET_IDLE_TIMEOUT_MS / 1000}s; 0 = never)
  -m, --max-time T     give up when the whole fetch (redirects included) takes longer than T
  --max-header-size B  the largest response head accepted (default ${DEFAULT_MAX_HEADER_BYTES / 1024}k)
  -v, --verbose        at exit, a summary on stderr: status, bytes, redirects, time
${TLS_CLIENT_HELP}
${TRACE_HELP}

Exit codes: 0 fetched (HTTP 1xx, 2xx, 3xx), 7 HTTP 4xx (client error: not found, forbidden),
8 HTTP 5xx (server error), 1 failure (too many redirects, an untrusted certificate, a body
cut short, a bad response), 2 usage or bad URL, 3 refused/unreachable, 4 timeout, 5 reset.

Examples:
  wirecat get http://127.0.0.1:10080/notes.txt           # see: wirecat serve http --root DIR
  wirecat get -i http://127.0.0.1:10080/                 # head and the folder listing
  wirecat get -L --max-redirs 3 http://example.test/old
  wirecat get https://127.0.0.1:8443/ --ca cert.pem       # a self-signed server's certificate
  wirecat get gopher://127.0.0.1:10070/1/                 # the menu of wirecat serve files
  wirecat get gopher://127.0.0.1:10070/0/notes.txt --trace
  wirecat get tftp://127.0.0.1:10069/boot.img -o boot.img
`;

/** The exit code for a fetched response: by HTTP status class. */
export function exitCodeForStatus(status: number | undefined): number {
  if (status === undefined || status < 400) return EXIT.OK;
  return status < 500 ? EXIT.HTTP_CLIENT_ERROR : EXIT.HTTP_SERVER_ERROR;
}

function parseHeaders(lines: string[] = []): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0 || /[\r\n]/.test(line))
      throw usageError(`-H takes 'Name: value', not "${line}"`, 'get');
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** The -o file, opened now so that a bad path is an error before anything is fetched. */
function openOutput(path: string): Writable {
  try {
    return createWriteStream(path, { fd: openSync(path, 'w') });
  } catch (err) {
    throw localFileError('write', path, err);
  }
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS, 'get');
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT.OK;
  }
  if (positionals.length !== 1) throw usageError('get takes one URL', 'get');
  const url = positionals[0];
  const tls = url.startsWith('https:') ? clientTlsFrom(values, 'get') : undefined;
  const duration = (name: 'connect-timeout' | 'idle-timeout' | 'max-time') =>
    values[name] ? parseDuration(values[name], `--${name}`, 's') : undefined;
  applyTrace(values);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  const output: Writable = values.output ? openOutput(values.output) : process.stdout;
  const printHead = values.include || values.head;
  let result: GetResult;
  try {
    result = await get(url, {
      output,
      onHead: printHead ? (head) => process.stdout.write(head.text) : undefined,
      method: values.head ? 'HEAD' : 'GET',
      headers: parseHeaders(values.header),
      followRedirects: values.location,
      maxRedirects: values['max-redirs']
        ? parseCount(values['max-redirs'], '--max-redirs')
        : undefined,
      connectTimeoutMs: duration('connect-timeout'),
      idleTimeoutMs: duration('idle-timeout'),
      maxTimeMs: duration('max-time'),
      maxHeaderBytes: values['max-header-size']
        ? parseSize(values['max-header-size'], '--max-header-size')
        : undefined,
      tls,
      signal: abort.signal,
    });
  } finally {
    if (values.output) await new Promise((resolve) => output.end(resolve));
  }
  if (values.verbose) {
    const summary = {
      url: result.url,
      status: result.status,
      bytes: result.bytes,
      redirects: result.redirects.length,
      ms: Math.round(result.durationMs),
    };
    process.stderr.write(
      values.json
        ? `${JSON.stringify({ event: 'summary', verb: 'get', ...summary })}\n`
        : `wirecat get: ${summary.url}: ${summary.status ?? 'done'}, ${summary.bytes} B body, ${summary.redirects} redirect${summary.redirects === 1 ? '' : 's'}, ${summary.ms} ms\n`,
    );
  }
  return exitCodeForStatus(result.status);
}
