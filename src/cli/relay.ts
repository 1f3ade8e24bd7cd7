// `wirecat relay A B`: listen on A (or stdin/stdout), open B per client, move bytes both
// ways with half-close, limits, and optional fault injection (delay, rate, drop, reset, stall).

import { DEFAULT_RELAY_QUEUE_BYTES, parseRelayEndpoint, relay } from '../client/relay.js';
import { DEFAULT_LIMITS, resolveLimits } from '../limits.js';
import { parseCommandLine, parseDuration, parseSize, usageError } from './args.js';
import { EXIT } from './exit-codes.js';
import {
  applyObserve,
  normalizeObserveArgs,
  OBSERVE_HELP,
  OBSERVE_OPTIONS,
} from './observe-options.js';
import { limitsFrom } from './serve.js';
import { onStopSignals } from './stop-signals.js';
import { printSummary } from './summary.js';
import {
  clientTlsFrom,
  serverTlsFrom,
  TLS_CLIENT_HELP,
  TLS_CLIENT_OPTIONS,
  TLS_SERVER_HELP,
  TLS_SERVER_OPTIONS,
} from './tls-options.js';
import { applyTrace, TRACE_HELP, TRACE_OPTIONS } from './trace-option.js';

const OPTIONS = {
  'keep-open': { type: 'boolean', short: 'k' },
  delay: { type: 'string' },
  jitter: { type: 'string' },
  rate: { type: 'string' },
  drop: { type: 'string' },
  'reset-after': { type: 'string' },
  'stall-after': { type: 'string' },
  'fault-direction': { type: 'string' },
  'max-connections': { type: 'string' },
  'max-per-source': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'max-buffered': { type: 'string' },
  'connect-timeout': { type: 'string' },
  'drain-timeout': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  ...TLS_SERVER_OPTIONS,
  ...TLS_CLIENT_OPTIONS,
  ...TRACE_OPTIONS,
  ...OBSERVE_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

const L = DEFAULT_LIMITS;
const HELP = `Usage: wirecat relay A B [options]

Listens on A; for each client opens B and relays bytes both ways. When one side half-closes
(FIN), the other side gets a FIN too and the reverse direction keeps flowing; a reset (RST)
on one side resets the other. Without --keep-open the relay serves one client and exits.

A and B: tcp://HOST:PORT, tls://HOST:PORT, unix:/PATH, udp://HOST:PORT, HOST:PORT (tcp), or
- (stdin/stdout). Over UDP each datagram is one chunk; a UDP client (or peer) gets its own
session, closed after the idle timeout.

Options:
  -k, --keep-open      serve many clients at once, one upstream connection each
  --connect-timeout T  give up opening B after T (default 10s)
  -v, --verbose        at exit, a summary on stderr: bytes each way, who closed first, time
${TLS_SERVER_HELP}
${TLS_CLIENT_HELP}
${TRACE_HELP}
${OBSERVE_HELP}

Limits (defaults, as in serve):
  --max-connections N  clients (or UDP peers) at once (${L.maxConnections}); more are refused
  --max-per-source N   clients at once from one address (${L.maxConnectionsPerSource})
  --idle-timeout T     close a side quiet this long (${L.idleTimeoutMs / 1000}s; 0 = never)
  --max-buffered B     unsent bytes held per connection (${L.maxBufferedBytes / 1_048_576}M); the relay holds at
                       most ${DEFAULT_RELAY_QUEUE_BYTES / 1_048_576}M per direction and stops reading until the far side catches up
  --drain-timeout T    on Ctrl-C/SIGTERM, time open sessions get to finish (${L.drainTimeoutMs / 1000}s)

Fault injection (for testing clients; both directions unless --fault-direction):
  --delay MS           hold every chunk MS milliseconds            --delay 200
  --jitter MS          add a random ±MS to the delay (order kept)  --delay 100 --jitter 50
  --rate BYTES/s       forward at most this many bytes per second  --rate 10k (a slow link)
  --drop PCT           UDP: drop PCT percent of datagrams          --drop 30
  --reset-after BYTES  forward BYTES, then reset both sides (RST)  --reset-after 1k
  --stall-after BYTES  forward BYTES, then stop forwarding and reading; the connection
                       stays open (a hung server)                  --stall-after 100
  --fault-direction D  to-b (client to upstream), to-a (upstream to client), or both

Ctrl-C (or SIGTERM) stops listening and lets open sessions finish, up to --drain-timeout;
a second Ctrl-C stops at once.

Exit codes: 0 done, 2 usage, 3 A in use or B refused/unreachable, 4 timeout, 1 other, 130 a
second Ctrl-C.

Examples:
  wirecat relay tcp://127.0.0.1:8080 tcp://example.test:80 -k        # a port forwarder
  wirecat relay tls://127.0.0.1:8443 tcp://127.0.0.1:8080 -k --self-signed   # add TLS
  wirecat relay tcp://127.0.0.1:9000 tls://example.test:443 -k      # remove TLS (verified)
  wirecat relay 127.0.0.1:7000 127.0.0.1:10007 -k --delay 200 --jitter 50 --hex
  wirecat relay 127.0.0.1:7000 127.0.0.1:10019 --rate 1k          # chargen at 1 KB/s
  wirecat relay udp://127.0.0.1:7000 udp://127.0.0.1:10007 -k --drop 25
  wirecat relay - tcp://127.0.0.1:10007 -v < file                 # like connect
`;

function percent(text: string): number {
  const n = Number(text.replace(/%$/, ''));
  if (!Number.isFinite(n) || n < 0 || n > 100)
    throw usageError(`--drop takes a percentage from 0 to 100, not "${text}"`, 'relay');
  return n;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(normalizeObserveArgs(args), OPTIONS, 'relay');
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT.OK;
  }
  if (positionals.length !== 2) throw usageError('relay takes two endpoints, A and B', 'relay');
  const a = parseRelayEndpoint(positionals[0]);
  const b = parseRelayEndpoint(positionals[1]);
  const direction = values['fault-direction'] ?? 'both';
  if (direction !== 'both' && direction !== 'to-a' && direction !== 'to-b')
    throw usageError(`--fault-direction takes to-a, to-b or both, not "${direction}"`, 'relay');
  if (values.drop && a.transport !== 'udp' && b.transport !== 'udp')
    throw usageError('--drop drops UDP datagrams: A or B must be udp://', 'relay');
  const faults = {
    delayMs: values.delay ? parseDuration(values.delay, '--delay') : undefined,
    jitterMs: values.jitter ? parseDuration(values.jitter, '--jitter') : undefined,
    rateBytesPerSec: values.rate ? parseSize(values.rate.replace(/\/s$/, ''), '--rate') : undefined,
    dropPercent: values.drop ? percent(values.drop) : undefined,
    resetAfterBytes: values['reset-after']
      ? parseSize(values['reset-after'], '--reset-after')
      : undefined,
    stallAfterBytes: values['stall-after']
      ? parseSize(values['stall-after'], '--stall-after')
      : undefined,
    direction: direction as 'both' | 'to-a' | 'to-b',
  };
  if (faults.rateBytesPerSec === 0) throw usageError('--rate must be above 0', 'relay');
  const tlsServer =
    a.transport === 'tls' ? serverTlsFrom(values, a.host ? [a.host] : [], 'relay') : undefined;
  const tlsClient = b.transport === 'tls' ? clientTlsFrom(values, 'relay') : undefined;
  applyTrace(values);
  const observe = await applyObserve(values, 'relay');
  const limits = resolveLimits(limitsFrom(values));
  const handle = await relay(a, b, {
    keepOpen: values['keep-open'],
    limits,
    faults,
    tlsServer,
    tlsClient,
    connectTimeoutMs: values['connect-timeout']
      ? parseDuration(values['connect-timeout'], '--connect-timeout', 's')
      : undefined,
  });
  for (const l of handle.listeners) {
    process.stderr.write(
      values.json
        ? `${JSON.stringify({ event: 'listening', ...l })}\n`
        : `wirecat relay: listening on ${l.address}, relaying to ${positionals[1]}\n`,
    );
  }
  onStopSignals({
    verb: 'relay',
    noun: 'session',
    json: values.json,
    open: handle.sessionsOpen,
    drainMs: limits.drainTimeoutMs,
    drain: () => void handle.close(),
    cut: () => {}, // the exit closes every socket
  });
  const result = await handle.finished;
  if (a.transport === 'stdio' || b.transport === 'stdio') process.stdin.destroy();
  if (values.verbose) {
    printSummary(
      'relay',
      {
        endpoint: `${positionals[0]} <-> ${positionals[1]}`,
        sent: result.bytesToB,
        received: result.bytesToA,
        closedFirstBy: result.closedFirstBy,
        firstCloseMs: result.firstCloseMs,
        ms: result.durationMs,
      },
      values.json,
    );
  }
  await observe.close();
  return EXIT.OK;
}
