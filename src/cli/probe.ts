// `wirecat probe ENDPOINT --service NAME`: check a server against its RFC; a pass/fail table,
// exit 0 when everything passed, 1 when anything failed, 3 when nothing answered.

import {
  DEFAULT_PROBE_TIMEOUT_MS,
  PROBE_SERVICES,
  type ProbeService,
  probe,
} from '../client/probe.js';
import { DEFAULT_MAX_CLOCK_SKEW_S } from '../client/probe-checks.js';
import { parseEndpoint } from '../transport/endpoint.js';
import { parseCommandLine, parseDuration, usageError } from './args.js';
import { EXIT } from './exit-codes.js';
import { clientTlsFrom, TLS_CLIENT_HELP, TLS_CLIENT_OPTIONS } from './tls-options.js';
import { applyTrace, TRACE_HELP, TRACE_OPTIONS } from './trace-option.js';

const OPTIONS = {
  service: { type: 'string', short: 's' },
  timeout: { type: 'string' },
  'max-skew': { type: 'string' },
  ...TLS_CLIENT_OPTIONS,
  ...TRACE_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

const HELP = `Usage: wirecat probe ENDPOINT --service NAME [options]

Checks a server against the RFC of its service and prints a pass/fail table:
${Object.entries(PROBE_SERVICES)
  .map(([name, rfc]) => `  ${name.padEnd(8)} ${rfc}`)
  .join('\n')}

What is checked: the exact bytes (echo), nothing back (discard), chargen's 72-character
rotating CRLF lines, qotd's 512-character bound, daytime's text and date, time's 4 bytes
counted from 1900 (not 1970), that one-shot services close without waiting for input, that
echo answers after the client's FIN (half-close), that UDP replies stay within 512 bytes,
and that UDP services never answer datagrams from service ports (the echo/chargen loop):
from a port below 1024 (needs root; else "skip") and from a wirecat service port.

ENDPOINT: HOST:PORT probes TCP and UDP; tcp://, tls://, unix: or udp:// only that one.

Options:
  -s, --service NAME   the service the server claims to be (required)
  --timeout T          wait this long at each step (default ${DEFAULT_PROBE_TIMEOUT_MS / 1000}s)
  --max-skew T         time/daytime: largest clock difference accepted (default ${DEFAULT_MAX_CLOCK_SKEW_S}s)
${TLS_CLIENT_HELP}
${TRACE_HELP}

Exit codes: 0 every check passed (skips allowed), 1 a check failed, 3 nothing answered,
2 usage.

Examples:
  wirecat probe 127.0.0.1:10037 --service time       # wirecat serve: all pass
  wirecat probe 127.0.0.1:37 --service time          # Twisted: fails, Unix epoch (1956)
  wirecat probe udp://127.0.0.1:19 --service chargen  # xinetd: fails, 1024 B reply
  wirecat probe tls://127.0.0.1:10443 --service echo --ca cert.pem
`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS, 'probe');
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT.OK;
  }
  if (positionals.length !== 1) throw usageError('probe takes one ENDPOINT', 'probe');
  const service = values.service;
  if (!service) throw usageError('say which service to check: --service NAME', 'probe');
  if (!(service in PROBE_SERVICES))
    throw usageError(
      `--service takes ${Object.keys(PROBE_SERVICES).join(', ')}, not "${service}"`,
      'probe',
    );
  const endpoint = parseEndpoint(positionals[0]);
  const tls = endpoint.transport === 'tls' ? clientTlsFrom(values, 'probe') : undefined;
  applyTrace(values);
  const report = await probe(positionals[0], {
    service: service as ProbeService,
    timeoutMs: values.timeout ? parseDuration(values.timeout, '--timeout', 's') : undefined,
    maxClockSkewS: values['max-skew']
      ? Math.round(parseDuration(values['max-skew'], '--max-skew', 's') / 1000)
      : undefined,
    tls,
  });
  if (values.json) {
    for (const c of report.checks)
      process.stdout.write(`${JSON.stringify({ event: 'check', ...c })}\n`);
    const { checks: _, ...summary } = report;
    process.stdout.write(`${JSON.stringify({ event: 'probe', ...summary })}\n`);
  } else {
    const width = Math.max(5, ...report.checks.map((c) => c.name.length));
    const rows = report.checks.map(
      (c) =>
        `${c.transport.padEnd(9)}  ${c.name.padEnd(width)}  ${c.status.toUpperCase().padEnd(6)} ${c.detail}`,
    );
    const count = (s: string) => report.checks.filter((c) => c.status === s).length;
    process.stdout.write(
      `wirecat probe: ${report.service} (${report.rfc}) at ${report.endpoint}\n` +
        `${'TRANSPORT'.padEnd(9)}  ${'CHECK'.padEnd(width)}  RESULT DETAIL\n${rows.join('\n')}\n` +
        `${report.checks.length} checks: ${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped\n`,
    );
  }
  if (report.unreachable) return EXIT.REFUSED;
  return report.passed ? EXIT.OK : EXIT.FAILURE;
}
