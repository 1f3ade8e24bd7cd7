// `wirecat listen`: what `nc -l` does, without its traps — loopback by default, one
// connection (or many with -k), UDP serving many peers, the line mode on a terminal.

import { DEFAULT_LISTEN_MAX_CLIENTS, listen } from '../client/listen.js';
import { DEFAULT_UDP_PEERS } from '../client/listen-udp.js';
import { type Endpoint, parseEndpoint } from '../transport/endpoint.js';
import { parseCommandLine, parseCount, parseDuration, usageError } from './args.js';
import { EXIT } from './exit-codes.js';
import { LINE_MODE_HELP, LINE_MODE_OPTIONS, lineModeFrom } from './line-mode-option.js';
import {
  applyObserve,
  normalizeObserveArgs,
  OBSERVE_HELP,
  OBSERVE_OPTIONS,
} from './observe-options.js';
import { printSummary, sessionSummary } from './summary.js';
import { serverTlsFrom, TLS_SERVER_HELP, TLS_SERVER_OPTIONS, tlsHosts } from './tls-options.js';
import { applyTrace, TRACE_HELP, TRACE_OPTIONS } from './trace-option.js';

const OPTIONS = {
  'keep-open': { type: 'boolean', short: 'k' },
  udp: { type: 'boolean', short: 'u' },
  'max-clients': { type: 'string' },
  'reply-to': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'no-half-close': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  ...LINE_MODE_OPTIONS,
  ...TLS_SERVER_OPTIONS,
  ...TRACE_OPTIONS,
  ...OBSERVE_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

const HELP = `Usage: wirecat listen [ENDPOINT] [options]

Waits for one connection, then works like "wirecat connect" on it: stdin goes to the peer,
half-closed (FIN) when stdin ends; the peer's bytes go to stdout unchanged until it closes.
It stops listening once the connection arrives (later ones are refused). The bound address
is printed on stderr.

ENDPOINT: PORT (on 127.0.0.1), HOST:PORT, [::1]:PORT, :PORT (every interface, IPv4 and IPv6),
tcp://HOST:PORT, udp://HOST:PORT, tls://HOST:PORT, unix:/PATH. Default: 127.0.0.1, a port
the OS picks. Only loopback unless you name another address.

Options:
  -k, --keep-open      accept many connections at once until Ctrl-C: each one's bytes go to
                       stdout, stdin goes to all of them (paused while any is behind)
  --max-clients N      with -k: connections at once; more are closed (${DEFAULT_LISTEN_MAX_CLIENTS})
  -u, --udp            UDP (same as udp://): every datagram from any peer goes to stdout; stdin
                       (or each typed line) goes as datagrams once a first peer has sent
  --reply-to last|all  UDP: send to the most recent peer (default) or to every peer heard from
                       in the last 5 minutes (at most ${DEFAULT_UDP_PEERS} remembered)
  --idle-timeout T     close a connection quiet this long (default 5m; 0 = never)
  --no-half-close      keep our side open after stdin ends
  -v, --verbose        connections and closes on stderr, and a summary at exit
${TLS_SERVER_HELP}
${TRACE_HELP}
${OBSERVE_HELP}
${LINE_MODE_HELP}

Exit codes: 0 done, 2 usage, 3 address in use, 4 idle timeout, 5 reset by peer, 130 Ctrl-C
before the one connection ended, 1 other.

Examples:
  wirecat listen 9000                   # two-person chat: the other side runs
                                        #   wirecat connect HOST:9000
  wirecat listen 9000 > upload.bin      # receive a file: wirecat connect HOST:9000 < file
  wirecat listen -k 9000 > log.txt < /dev/null   # a sink for many clients
  wirecat listen -u 9000                # UDP: print datagrams from anyone
  wirecat listen unix:/tmp/debug.sock
  wirecat listen tls://127.0.0.1:9443 --self-signed --save-cert /tmp/l.pem
`;

function endpointFrom(positionals: string[], udp: boolean | undefined): Endpoint {
  if (positionals.length > 2) throw usageError('listen takes ENDPOINT, or HOST PORT', 'listen');
  const text =
    positionals.length === 2
      ? `${positionals[0].includes(':') ? `[${positionals[0]}]` : positionals[0]}:${positionals[1]}`
      : (positionals[0] ?? '0');
  const endpoint = parseEndpoint(text, udp ? 'udp' : 'tcp');
  if (udp && endpoint.transport !== 'udp')
    throw usageError(`-u listens on UDP, but ${text} says ${endpoint.transport}`, 'listen');
  return endpoint;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(normalizeObserveArgs(args), OPTIONS, 'listen');
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT.OK;
  }
  const endpoint = endpointFrom(positionals, values.udp);
  const replyTo = values['reply-to'];
  if (replyTo !== undefined && replyTo !== 'last' && replyTo !== 'all')
    throw usageError(`--reply-to takes last or all, not "${replyTo}"`, 'listen');
  const tls =
    endpoint.transport === 'tls'
      ? serverTlsFrom(values, tlsHosts([endpoint]), 'listen')
      : undefined;
  applyTrace(values);
  const observe = await applyObserve(values, 'listen');
  const verbose = values.verbose;
  const abort = new AbortController();
  process.on('SIGINT', () => abort.abort());
  process.on('SIGTERM', () => abort.abort());
  const listener = await listen(endpoint, {
    input: process.stdin,
    output: process.stdout,
    ...lineModeFrom(values),
    keepOpen: values['keep-open'],
    maxClients: values['max-clients']
      ? parseCount(values['max-clients'], '--max-clients', 1)
      : undefined,
    udpReplyTo: replyTo as 'last' | 'all' | undefined,
    noHalfClose: values['no-half-close'],
    idleTimeoutMs: values['idle-timeout']
      ? parseDuration(values['idle-timeout'], '--idle-timeout', 's')
      : undefined,
    tls,
    signal: abort.signal,
    onNotice: verbose ? (text) => process.stderr.write(`wirecat listen: ${text}\n`) : undefined,
  });
  process.stderr.write(
    values.json
      ? `${JSON.stringify({ event: 'listening', address: listener.address })}\n`
      : `wirecat listen: listening on ${listener.address}${values['keep-open'] || endpoint.transport === 'udp' ? ' (Ctrl-C stops)' : ''}\n`,
  );
  const result = await listener.done;
  process.stdin.destroy();
  if (verbose) {
    const summary = sessionSummary(listener.address, result, 'client');
    printSummary(
      'listen',
      { ...summary, endpoint: `${listener.address}, ${result.peers} peer(s)` },
      values.json,
    );
  }
  await observe.close();
  return EXIT.OK;
}
