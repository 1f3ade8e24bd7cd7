// `wirecat udp`: send one datagram (stdin or --send), print the reply, fail on no reply.

import { MAX_DATAGRAM_PAYLOAD, udpRequest } from '../client/udp.js';
import { parseEndpoint } from '../transport/endpoint.js';
import { parseCommandLine, parseCount, parseDuration, usageError } from './args.js';
import { EXIT } from './exit-codes.js';
import { applyTrace, TRACE_HELP, TRACE_OPTIONS } from './trace-option.js';

const OPTIONS = {
  send: { type: 'string', short: 's' },
  timeout: { type: 'string' },
  retries: { type: 'string' },
  ...TRACE_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

const HELP = `Usage: wirecat udp ENDPOINT [options]

Sends one datagram and prints the first reply to stdout unchanged. The datagram holds
--send TEXT, or else all of stdin (at most ${MAX_DATAGRAM_PAYLOAD} bytes), or is empty when stdin is a
terminal. With no reply it sends again, then exits with code 6.

ENDPOINT: HOST:PORT, udp://HOST:PORT, [::1]:PORT (always UDP here).

Options:
  -s, --send TEXT      the datagram's content (instead of stdin)
  --timeout T          wait this long for each reply (default 2s)
  --retries N          extra tries when no reply comes (default 2)
${TRACE_HELP}

Exit codes: 0 reply printed, 6 no reply, 3 refused (ICMP port unreachable), 2 usage.

Examples:
  wirecat udp 127.0.0.1:10013                  # daytime over UDP
  wirecat udp 127.0.0.1:10007 --send hello     # echo: prints hello
  wirecat udp 127.0.0.1:10037 | od -An -tu1    # time: 4 bytes, seconds since 1900
`;

async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_DATAGRAM_PAYLOAD)
      throw usageError(
        `stdin holds more than ${MAX_DATAGRAM_PAYLOAD} bytes, too many for one datagram`,
        'udp',
      );
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts, size);
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS, 'udp');
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT.OK;
  }
  if (positionals.length !== 1) throw usageError('udp takes one ENDPOINT', 'udp');
  const endpoint = parseEndpoint(positionals[0], 'udp');
  if (endpoint.transport !== 'udp')
    throw usageError(`${positionals[0]} is not UDP: use wirecat connect`, 'udp');
  applyTrace(values);
  const payload = values.send !== undefined ? Buffer.from(values.send) : await readStdin();
  const reply = await udpRequest(endpoint, payload, {
    timeoutMs: values.timeout ? parseDuration(values.timeout, '--timeout', 's') : undefined,
    retries: values.retries ? parseCount(values.retries, '--retries') : undefined,
  });
  await new Promise<void>((resolve) => process.stdout.write(reply, () => resolve()));
  return EXIT.OK;
}
