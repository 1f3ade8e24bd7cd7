// `wirecat connect`: stdin to a stream endpoint, its bytes to stdout, half-close at stdin's end.

import { connect } from '../client/connect.js';
import { formatEndpoint, parseEndpoint } from '../transport/endpoint.js';
import { parseCommandLine, parseDuration, usageError } from './args.js';
import { EXIT } from './exit-codes.js';
import { LINE_MODE_HELP, LINE_MODE_OPTIONS, lineModeFrom } from './line-mode-option.js';
import { printSummary, sessionSummary } from './summary.js';
import { clientTlsFrom, TLS_CLIENT_HELP, TLS_CLIENT_OPTIONS } from './tls-options.js';
import { applyTrace, TRACE_HELP, TRACE_OPTIONS } from './trace-option.js';

const OPTIONS = {
  'connect-timeout': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'no-half-close': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  ...LINE_MODE_OPTIONS,
  ...TLS_CLIENT_OPTIONS,
  ...TRACE_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

const HELP = `Usage: wirecat connect ENDPOINT [options]
       wirecat connect HOST PORT [options]

Connects, sends stdin, and when stdin ends half-closes the connection (sends FIN) and keeps
reading until the server closes. Everything received goes to stdout unchanged (binary-safe).
When the server half-closes first, stdin that is still flowing is sent to its end; stdin quiet
for 500 ms ends our side too.

ENDPOINT: HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT, [::1]:PORT, unix:/PATH, or PORT
(localhost). tls:// verifies the server's certificate against the system CAs (or --ca).

Options:
  --connect-timeout T  give up connecting after T (default 10s)
  --idle-timeout T     give up after T with no bytes either way (default 5m; 0 = never)
  --no-half-close      keep our side open after stdin ends (wait for the server to close)
  -v, --verbose        at exit, a summary on stderr: bytes each way, who closed first, time
${TLS_CLIENT_HELP}
${TRACE_HELP}
${LINE_MODE_HELP}

Exit codes: 0 done, 2 usage, 3 refused/unreachable, 4 timeout, 5 reset by peer, 1 other
(including an untrusted TLS certificate).

Examples:
  echo hello | wirecat connect 127.0.0.1:10007          # echo: prints hello
  wirecat connect 127.0.0.1:10013 < /dev/null           # daytime
  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | wirecat connect example.test:80
  wirecat connect unix:/tmp/reverse.sock -v < notes.txt
  echo hi | wirecat connect tls://127.0.0.1:10443 --ca /tmp/echo.pem   # see serve --self-signed
  wirecat connect --crlf example.test:25                  # SMTP by hand, line by line
  wirecat connect 127.0.0.1:10023                         # the chat room (wirecat serve chat)
`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS, 'connect');
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT.OK;
  }
  if (positionals.length === 0 || positionals.length > 2)
    throw usageError('connect takes ENDPOINT, or HOST PORT', 'connect');
  const target =
    positionals.length === 2
      ? `tcp://${positionals[0].includes(':') ? `[${positionals[0]}]` : positionals[0]}:${positionals[1]}`
      : positionals[0];
  const endpoint = parseEndpoint(target);
  if (endpoint.transport === 'udp')
    throw usageError(`${target} is UDP: use wirecat udp`, 'connect');
  const tls = endpoint.transport === 'tls' ? clientTlsFrom(values, 'connect') : undefined;
  applyTrace(values);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  const result = await connect(endpoint, {
    input: process.stdin,
    output: process.stdout,
    noHalfClose: values['no-half-close'],
    ...lineModeFrom(values),
    connectTimeoutMs: values['connect-timeout']
      ? parseDuration(values['connect-timeout'], '--connect-timeout', 's')
      : undefined,
    idleTimeoutMs: values['idle-timeout']
      ? parseDuration(values['idle-timeout'], '--idle-timeout', 's')
      : undefined,
    signal: abort.signal,
    tls,
  });
  // stdin may still be open (the server closed first): let the process exit anyway.
  process.stdin.destroy();
  if (values.verbose)
    printSummary('connect', sessionSummary(formatEndpoint(endpoint), result), values.json);
  return EXIT.OK;
}
