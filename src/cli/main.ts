// The `wirecat` command: picks the verb, loads only that verb's code, maps errors to exit codes.

import { isWirecatError } from '../errors.js';
import { EXIT, exitCodeFor } from './exit-codes.js';

type Verb = { run(args: string[]): Promise<number> };

// Lazy: `wirecat connect` must not pay for loading the server, and the reverse.
const VERBS: Record<string, { summary: string; load: () => Promise<Verb> }> = {
  serve: {
    summary: 'run the classic services (all of them by default, on loopback)',
    load: () => import('./serve.js'),
  },
  connect: {
    summary: 'connect to a stream endpoint: stdin to it, its replies to stdout',
    load: () => import('./connect.js'),
  },
  udp: { summary: 'send one datagram and print the reply', load: () => import('./udp.js') },
  get: {
    summary: 'fetch a URL (http, https, gopher, tftp): the body to stdout',
    load: () => import('./get.js'),
  },
  relay: {
    summary: 'relay between two endpoints, with fault injection (delay, rate, drop, reset, stall)',
    load: () => import('./relay.js'),
  },
  probe: {
    summary: 'check a server against the RFC of echo, discard, chargen, qotd, daytime or time',
    load: () => import('./probe.js'),
  },
  listen: {
    summary: 'wait for a connection (or datagrams): like nc -l, loopback by default',
    load: () => import('./listen.js'),
  },
  tftp: {
    summary: 'get or put a file with TFTP (blksize, tsize, windowsize; progress on a terminal)',
    load: () => import('./tftp.js'),
  },
};

const VERSION = '0.1.0';

function usage(): string {
  const verbs = Object.entries(VERBS)
    .map(([name, v]) => `  ${name.padEnd(9)} ${v.summary}`)
    .join('\n');
  return `wirecat ${VERSION}: a socket toolkit — classic services, a netcat-like client, a library.

Usage: wirecat <command> [arguments] [options]

Commands:
${verbs}

Examples:
  wirecat serve                          every classic service on 127.0.0.1, TCP and UDP
  wirecat serve echo daytime --trace     two services, with the socket timeline on stderr
  echo hello | wirecat connect 127.0.0.1:10007
  wirecat udp udp://127.0.0.1:10013

Run "wirecat <command> --help" for a command's options.
Exit codes: 0 ok, 1 failure, 2 usage, 3 refused/unreachable, 4 timeout, 5 reset, 6 no UDP reply,
7 HTTP 4xx and 8 HTTP 5xx (get), 130 stopped by a second Ctrl-C.
`;
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === 'help' || verb === '-h' || verb === '--help') {
    if (verb === 'help' && rest[0] && VERBS[rest[0]])
      return (await VERBS[rest[0]].load()).run(['--help']);
    process.stdout.write(usage());
    return verb === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (verb === '--version' || verb === '-V') {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.OK;
  }
  const entry = VERBS[verb];
  if (!entry) {
    process.stderr.write(
      `wirecat: unknown command "${verb}" (commands: ${Object.keys(VERBS).join(', ')}; see wirecat --help)\n`,
    );
    return EXIT.USAGE;
  }
  try {
    return await (await entry.load()).run(rest);
  } catch (err) {
    if (isWirecatError(err)) {
      // With --json every line is JSON, errors included, so scripts parse one format.
      process.stderr.write(
        rest.includes('--json')
          ? `${JSON.stringify({ event: 'error', verb, code: err.code, message: err.message })}\n`
          : `wirecat ${verb}: ${err.message}\n`,
      );
      return exitCodeFor(err.code);
    }
    process.stderr.write(`wirecat ${verb}: unexpected error: ${(err as Error)?.stack ?? err}\n`);
    return EXIT.FAILURE;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`wirecat: ${err?.stack ?? err}\n`);
    process.exitCode = EXIT.FAILURE;
  },
);
