// `wirecat serve`: start services, print where they listen, drain gracefully on a signal.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { WirecatError } from '../errors.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import { loadConfig, parseServiceSpecs } from '../server/bindings.js';
import type { Binding, ListenerInfo } from '../server/host.js';
import { serve } from '../server/serve.js';
import { type ServiceDefinition, services } from '../services/index.js';
import { parseQuotes } from '../services/qotd.js';
import { parseCommandLine, parseCount, parseDuration, parseSize, usageError } from './args.js';
import { CHAT_HELP, CHAT_OPTIONS, chatOperatorFrom } from './chat-operator.js';
import { EXIT } from './exit-codes.js';
import {
  applyObserve,
  normalizeObserveArgs,
  OBSERVE_HELP,
  OBSERVE_OPTIONS,
} from './observe-options.js';
import { onStopSignals } from './stop-signals.js';
import { serverTlsFrom, TLS_SERVER_HELP, TLS_SERVER_OPTIONS, tlsHosts } from './tls-options.js';
import { applyTrace, TRACE_HELP, TRACE_OPTIONS } from './trace-option.js';

const OPTIONS = {
  host: { type: 'string' },
  ...CHAT_OPTIONS,
  config: { type: 'string' },
  quotes: { type: 'string' },
  'time-format': { type: 'string' },
  'ack-text': { type: 'string' },
  root: { type: 'string' },
  'max-file-size': { type: 'string' },
  'allow-write': { type: 'boolean' },
  'allow-overwrite': { type: 'boolean' },
  'max-name': { type: 'string' },
  'max-connections': { type: 'string' },
  'max-per-source': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'request-timeout': { type: 'string' },
  'max-line': { type: 'string' },
  'max-buffered': { type: 'string' },
  'flush-delay': { type: 'string' },
  'drain-timeout': { type: 'string' },
  'udp-max-reply': { type: 'string' },
  'udp-rate': { type: 'string' },
  ...TLS_SERVER_OPTIONS,
  ...TRACE_OPTIONS,
  ...OBSERVE_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

function help(): string {
  const list = (Object.keys(services) as (keyof typeof services)[])
    .map((name) => {
      const s: ServiceDefinition = services[name];
      return `  ${name.padEnd(8)} ${String(s.defaultPort).padEnd(6)} ${s.tcp === false ? 'udp    ' : s.udp ? 'tcp+udp' : 'tcp    '}  ${s.summary} (${s.spec})${s.optIn ? ' [when named]' : ''}`;
    })
    .join('\n');
  const L = DEFAULT_LIMITS;
  return `Usage: wirecat serve [SERVICE | SERVICE=ENDPOINT]... [options]

Runs the classic services. With no SERVICE, runs all of them on their default ports over
TCP and UDP, on 127.0.0.1 only. SERVICE=ENDPOINT runs one service on exactly that endpoint:
tcp://HOST:PORT, udp://HOST:PORT, tls://HOST:PORT, unix:/PATH, HOST:PORT (tcp), :PORT (all).

Services (name, default port, transports):
${list}

Options:
  --host ADDR          address for services given by name (default 127.0.0.1; 0.0.0.0 or ::
                       exposes them to the network, and the table says so)
  --config FILE        JSON config: { "host", "services": [...], "limits": {...}, "quotes" }
  --quotes FILE        qotd quotes, separated by lines holding only %
  --time-format F      daytime and stamp: text (Wed Dec 29 19:14:15 2017) or iso (RFC 3339)
  --ack-text TEXT      ack's answer (default "message received")
${CHAT_HELP}
  --root DIR           files and http: the folder served (read-only; nothing outside it is
                       reachable: no .., no symlinks leading out, regular files only)
  --max-file-size B    files and http: the largest file served (default 4G); tftp: also the
                       largest upload (default 256M)
  --allow-write        tftp: accept uploads (WRQ) into --root; read-only without it
  --allow-overwrite    tftp: let an upload replace an existing file (refused without it)
  --max-name B         files: the longest selector; http: the longest path (default 1024)
${TLS_SERVER_HELP}
${TRACE_HELP}
${OBSERVE_HELP}

Limits (defaults):
  --max-connections N  connections open at once, all services (${L.maxConnections}); more are refused
  --max-per-source N   connections open at once from one address (${L.maxConnectionsPerSource})
  --idle-timeout T     close a connection quiet this long (${L.idleTimeoutMs / 1000}s; 0 = never)
  --request-timeout T  time to send a whole request: Gopher selector, HTTP head, chat nickname
                       (${L.requestTimeoutMs / 1000}s; 0 = never); then an error and a close
  --max-line BYTES     longest line for reverse/ack/stamp (${L.maxLineBytes}); longer: error line, close
  --max-buffered BYTES unsent bytes held for a peer that does not read (${L.maxBufferedBytes / 1_048_576}M)
  --flush-delay T      answer a partial line after this much quiet (${L.flushDelayMs}ms)
  --drain-timeout T    on Ctrl-C/SIGTERM, time for in-flight exchanges (${L.drainTimeoutMs / 1000}s)
  --udp-max-reply B    largest UDP reply unless the request was larger (${L.maxDatagramReply})
  --udp-rate N         UDP replies per second per source address (${L.udpRepliesPerSourcePerSec})

UDP safety (always on): no reply to source ports below 1024 or to wirecat's service ports
(the echo/chargen loop), none to broadcast or multicast, wildcard binds use each unicast
address so broadcasts never arrive.

Examples:
  wirecat serve
  wirecat serve echo daytime
  wirecat serve echo=tcp://0.0.0.0:7007 time=udp://[::]:10037
  wirecat serve reverse=unix:/tmp/reverse.sock --trace
  wirecat serve echo --dashboard     # then open http://127.0.0.1:10090/
  wirecat serve echo=tls://127.0.0.1:10443 --self-signed --save-cert /tmp/echo.pem
  wirecat serve --config services.json
  wirecat serve files http --root ./public   # Gopher on 10070, HTTP on 10080
  wirecat serve tftp --root ./boot            # TFTP on udp://127.0.0.1:10069, read-only
  wirecat serve tftp --root ./in --allow-write
`;
}

/** The limit options (serve's, also relay's) as Limits. */
export function limitsFrom(values: Record<string, string | boolean | undefined>): Partial<Limits> {
  const v = values as Record<string, string | undefined>;
  const limits: Partial<Limits> = {};
  if (v['max-connections'])
    limits.maxConnections = parseCount(v['max-connections'], '--max-connections', 1);
  if (v['max-per-source'])
    limits.maxConnectionsPerSource = parseCount(v['max-per-source'], '--max-per-source', 1);
  if (v['idle-timeout'])
    limits.idleTimeoutMs = parseDuration(v['idle-timeout'], '--idle-timeout', 's');
  if (v['request-timeout'])
    limits.requestTimeoutMs = parseDuration(v['request-timeout'], '--request-timeout', 's');
  if (v['max-line']) limits.maxLineBytes = parseSize(v['max-line'], '--max-line');
  if (v['max-buffered']) limits.maxBufferedBytes = parseSize(v['max-buffered'], '--max-buffered');
  if (v['flush-delay']) limits.flushDelayMs = parseDuration(v['flush-delay'], '--flush-delay');
  if (v['drain-timeout'])
    limits.drainTimeoutMs = parseDuration(v['drain-timeout'], '--drain-timeout', 's');
  if (v['udp-max-reply'])
    limits.maxDatagramReply = parseSize(v['udp-max-reply'], '--udp-max-reply');
  if (v['udp-rate']) limits.udpRepliesPerSourcePerSec = parseCount(v['udp-rate'], '--udp-rate', 1);
  return limits;
}

function readQuotes(path: string): string[] {
  try {
    return parseQuotes(readFileSync(path, 'utf8'), path);
  } catch (err) {
    if (err instanceof WirecatError) throw err;
    throw new WirecatError(
      'WIRECAT_BAD_CONFIG',
      `cannot read quotes file ${path}: ${(err as Error).message}`,
    );
  }
}

function printTable(listeners: ListenerInfo[], json: boolean | undefined): void {
  if (json) {
    for (const l of listeners)
      process.stdout.write(`${JSON.stringify({ event: 'listening', ...l })}\n`);
    return;
  }
  const exposed = listeners.some((l) => l.exposed);
  const rows = listeners.map((l) => [
    l.service,
    l.transport,
    l.address + (l.exposed ? '   <- reachable from the network' : ''),
  ]);
  const width = [
    Math.max(7, ...rows.map((r) => r[0].length)),
    Math.max(9, ...rows.map((r) => r[1].length)),
  ];
  const line = (r: string[]) => `${r[0].padEnd(width[0])}  ${r[1].padEnd(width[1])}  ${r[2]}`;
  process.stdout.write(
    `wirecat is serving ${listeners.length} endpoint${listeners.length === 1 ? '' : 's'} (${exposed ? 'SOME ARE EXPOSED to the network' : 'loopback only; --host 0.0.0.0 exposes them'}):\n` +
      `${line(['SERVICE', 'TRANSPORT', 'ADDRESS'])}\n${rows.map(line).join('\n')}\n` +
      'Ctrl-C stops gracefully; a second Ctrl-C stops at once.\n',
  );
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(normalizeObserveArgs(args), OPTIONS, 'serve');
  if (values.help) {
    process.stdout.write(help());
    return EXIT.OK;
  }
  let bindings: Binding[];
  let limits = limitsFrom(values);
  let quotes = values.quotes ? readQuotes(values.quotes) : undefined;
  let timeFormat = values['time-format'];
  let ackText = values['ack-text'];
  if (values.config) {
    if (positionals.length > 0)
      throw usageError(
        'give services either on the command line or in --config, not both',
        'serve',
      );
    const { bindings: fromFile, config } = loadConfig(values.config);
    bindings = fromFile;
    limits = { ...config.limits, ...limits };
    if (!quotes && config.quotes)
      quotes = readQuotes(resolve(dirname(values.config), config.quotes));
    timeFormat ??= config.timeFormat;
    ackText ??= config.ackText;
  } else {
    bindings = parseServiceSpecs(positionals, values.host);
  }
  if (timeFormat !== undefined && timeFormat !== 'text' && timeFormat !== 'iso') {
    throw usageError(`--time-format takes text or iso, not "${timeFormat}"`, 'serve');
  }
  const tls = serverTlsFrom(values, tlsHosts(bindings.map((b) => b.endpoint)), 'serve');
  applyTrace(values);
  const observe = await applyObserve(values, 'serve');
  const operator = chatOperatorFrom(values);
  const host = await serve(bindings, {
    chat: { operator: operator.operator },
    tls,
    limits,
    quotes,
    timeFormat: timeFormat as 'text' | 'iso' | undefined,
    ackText,
    root: values.root,
    maxFileBytes: values['max-file-size']
      ? parseSize(values['max-file-size'], '--max-file-size')
      : undefined,
    maxNameBytes: values['max-name'] ? parseSize(values['max-name'], '--max-name') : undefined,
    tftp: { allowWrite: values['allow-write'], allowOverwrite: values['allow-overwrite'] },
  }).catch(async (err) => {
    await observe.close(); // the page's server would keep the process alive
    throw err;
  });
  printTable(host.listeners, values.json);
  operator.start();
  onStopSignals({
    verb: 'serve',
    noun: 'connection',
    json: values.json,
    open: () => host.stats.connectionsOpen,
    drainMs: host.limits.drainTimeoutMs,
    drain: () => {
      host
        .close()
        .then(() => observe.close())
        .then(() => process.exit(EXIT.OK));
    },
    cut: () => host.destroy(),
  });
  return new Promise<number>(() => {}); // runs until a signal
}
