// Command-line flags and BENCH_* environment variables for bench/run.mjs, with defaults.

import { parseArgs } from 'node:util';

/** Scenarios in the order they run and print. */
export const SCENARIO_NAMES = ['echo', 'stream', 'daytime', 'udp', 'idle', 'oneshot'];
/** Server kinds in the order they print. */
export const SERVER_KINDS = ['wirecat', 'node', 'socat', 'python'];

export const HELP = `Usage: npm run bench -- [options]      (or: node bench/run.mjs [options])

Measures \`wirecat serve\` beside a bare node:net server, socat and a python3 threading server
with the same load generator (loadgen), and the one-shot \`wirecat connect\` beside node, nc,
socat and python clients (hyperfine). Prints a table with ratios to bare node and to socat and
which floors hold; writes raw JSON lines and the table to bench/out/<run>/.

Options (environment variable in brackets):
  --reps N          interleaved repetitions per server (3) [BENCH_REPS]
  --secs S          measured seconds per rep (5) [BENCH_SECS]
  --warmup S        seconds of load before measuring (1) [BENCH_WARMUP]
  --only LIST       scenarios, comma-separated: ${SCENARIO_NAMES.join(',')} (all) [BENCH_ONLY]
  --servers LIST    servers, comma-separated: ${SERVER_KINDS.join(',')} (all) [BENCH_SERVERS]
  --idle-conns N    connections held open in the idle scenario (10000) [BENCH_IDLE_CONNS]
  --runs N          hyperfine runs per client per rep in oneshot (30) [BENCH_RUNS]
  --port-base P     first of the 60 loopback ports used (27400) [BENCH_PORT_BASE]
  --wirecat FILE    the wirecat CLI to measure (dist/cli/wirecat.js) [BENCH_WIRECAT]
  --out DIR         where run folders go (bench/out) [BENCH_OUT]
  --quick           smoke check: 1 rep, 2 s, 0.5 s warm-up, 10 hyperfine runs
  --keep-going      do not stop at the first wrong reply from wirecat (still exits 2)
  --strict          exit 1 when a floor fails
  --selftest        prove the harness fails on wrong bytes (uses bench/servers/bad-wirecat.mjs)
  -h, --help        this text

Exit status: 0 done, 1 harness failure (or a floor failed with --strict), 2 a server returned
wrong bytes, dropped data or stalled (loadgen exit 2) - no figure is printed for that cell.

Examples:
  npm run bench
  npm run bench -- --quick
  npm run bench -- --only echo,udp --servers wirecat,node --reps 5
  BENCH_REPS=5 BENCH_SECS=10 npm run bench
`;

function number(value, name, { min = 0, integer = false } = {}) {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new Error(`${name} takes a ${integer ? 'whole ' : ''}number >= ${min}, not "${value}"`);
  }
  return n;
}

function list(value, known, name) {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!known.includes(item)) throw new Error(`${name}: unknown "${item}" (known: ${known})`);
  }
  return known.filter((k) => items.includes(k));
}

/** Parse argv and the environment into the run's settings. Throws with a usable message. */
export function parseOptions(argv, env = process.env) {
  const { values } = parseArgs({
    args: argv,
    options: {
      reps: { type: 'string' },
      secs: { type: 'string' },
      warmup: { type: 'string' },
      only: { type: 'string' },
      servers: { type: 'string' },
      'idle-conns': { type: 'string' },
      runs: { type: 'string' },
      'port-base': { type: 'string' },
      wirecat: { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean' },
      'keep-going': { type: 'boolean' },
      strict: { type: 'boolean' },
      selftest: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  const quick = Boolean(values.quick);
  const pick = (flag, envName, fallback) => values[flag] ?? env[envName] ?? fallback;
  return {
    help: Boolean(values.help),
    selftest: Boolean(values.selftest),
    quick,
    reps: number(pick('reps', 'BENCH_REPS', quick ? 1 : 3), '--reps', { min: 1, integer: true }),
    secs: number(pick('secs', 'BENCH_SECS', quick ? 2 : 5), '--secs', { min: 0.5 }),
    warmup: number(pick('warmup', 'BENCH_WARMUP', quick ? 0.5 : 1), '--warmup'),
    scenarios: list(pick('only', 'BENCH_ONLY', SCENARIO_NAMES.join(',')), SCENARIO_NAMES, '--only'),
    servers: list(
      pick('servers', 'BENCH_SERVERS', SERVER_KINDS.join(',')),
      SERVER_KINDS,
      '--servers',
    ),
    idleConns: number(pick('idle-conns', 'BENCH_IDLE_CONNS', 10_000), '--idle-conns', {
      min: 1,
      integer: true,
    }),
    runs: number(pick('runs', 'BENCH_RUNS', quick ? 10 : 30), '--runs', { min: 2, integer: true }),
    portBase: number(pick('port-base', 'BENCH_PORT_BASE', 27_400), '--port-base', {
      min: 1024,
      integer: true,
    }),
    wirecat: pick('wirecat', 'BENCH_WIRECAT', undefined),
    out: pick('out', 'BENCH_OUT', undefined),
    keepGoing: Boolean(values['keep-going']),
    strict: Boolean(values.strict),
  };
}
