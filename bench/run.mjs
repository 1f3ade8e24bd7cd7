// `npm run bench`: measures `wirecat serve` and `wirecat connect` beside bare node, socat and
// python with the same load generator (shared/bench/loadgen.c) in one interleaved run, and
// prints a table with per-rep paired ratios and the floors. Method: shared/research/perf-anchors.md.

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HELP, parseOptions, SCENARIO_NAMES, SERVER_KINDS } from './lib/options.mjs';
import {
  killAllServers,
  portFree,
  readReply,
  runBounded,
  startServer,
  stopServer,
  waitReady,
} from './lib/proc.mjs';
import { DAYTIME_REPLY, loadScenarios, oneShotClients } from './lib/scenarios.mjs';
import { evaluate, fmt, renderChecks, renderTable, scenarioRows } from './lib/summary.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const LOADGEN = join(BENCH_DIR, 'loadgen');
const LOADGEN_SRC = process.env.BENCH_LOADGEN_SRC ?? '/work/shared/bench/loadgen.c';
/** Servers run on this CPU, load generators and one-shot clients on the other. */
const SERVER_CPU = 1;
const CLIENT_CPU = 0;
/** ncat's one-shot client time on this machine (shared/research/perf-anchors.md, (h)). */
const NCAT_MS = 51;
/** A rep whose foreign load (cores busy outside loadgen and the server) exceeds this is noisy. */
const NOISY_CORES = 0.3;
/** Extra time a loadgen run may take beyond secs + warm-up before it is killed. */
const LOADGEN_SLACK_MS = 60_000;
const IDLE_SLACK_MS = 120_000;

const LABELS = { wirecat: 'wirecat serve', node: 'bare node', socat: 'socat', python: 'python3' };

const ONESHOT = {
  name: 'oneshot',
  title: 'one-shot client process: connect, read daytime, exit (hyperfine mean)',
  unit: 'ms',
  better: 'lower',
};

class WrongReply extends Error {}

const say = (text) => process.stderr.write(`${text}\n`);

function has(program) {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

/** The first line of a program's output that matches `pattern` (its version, say). */
function firstLine(cmd, args, pattern = /\S/) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const line = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').find((l) => pattern.test(l));
  return line?.trim() ?? '?';
}

function preflight(opts) {
  const needs = ['taskset'];
  if (opts.servers.includes('socat')) needs.push('socat');
  if (opts.servers.includes('python')) needs.push('python3');
  if (opts.scenarios.includes('oneshot')) needs.push('hyperfine', 'nc');
  const missing = needs.filter((p) => !has(p));
  if (missing.length)
    throw new Error(
      `missing programs: ${missing.join(', ')} (install them or narrow --servers/--only)`,
    );
  if (opts.portBase + 60 > 65_535) throw new Error('--port-base must leave 60 ports below 65536');
}

function buildLoadgen() {
  const fresh =
    existsSync(LOADGEN) &&
    (!existsSync(LOADGEN_SRC) || statSync(LOADGEN).mtimeMs >= statSync(LOADGEN_SRC).mtimeMs);
  if (fresh) return;
  if (!existsSync(LOADGEN_SRC))
    throw new Error(`cannot build loadgen: ${LOADGEN_SRC} not found (set BENCH_LOADGEN_SRC)`);
  say(`building ${LOADGEN} from ${LOADGEN_SRC}`);
  const r = spawnSync('cc', ['-O2', '-o', LOADGEN, LOADGEN_SRC, '-lm'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('cc failed to build loadgen');
}

// Others may rebuild dist/ while we run (the build starts with rm -rf dist), so the run
// measures a private copy of the bundled CLI, taken once at the start. When dist/ is missing
// and `npm run build` fails (someone's unfinished work does not type-check), the CLI is
// bundled by the build's own last step (scripts/bundle-cli.mjs, esbuild, no type-check).
function prepareWirecat(opts, runDir) {
  if (opts.wirecat) return { cli: resolve(opts.wirecat), how: 'given with --wirecat' };
  const entry = join(ROOT, 'dist/cli/wirecat.js');
  let how = 'a copy of dist/cli';
  if (!existsSync(entry)) {
    say('dist/cli/wirecat.js is missing: running npm run build');
    how = 'a copy of dist/cli, freshly built';
    const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
    if (r.status !== 0 || !existsSync(entry)) {
      say(
        'wirecat-bench: npm run build failed; bundling the CLI with scripts/bundle-cli.mjs alone',
      );
      how =
        'a copy of dist/cli bundled by scripts/bundle-cli.mjs without type-check (npm run build failed)';
      const b = spawnSync(process.execPath, ['scripts/bundle-cli.mjs'], {
        cwd: ROOT,
        stdio: ['ignore', 2, 2],
      });
      if (b.status !== 0 || !existsSync(entry))
        throw new Error('cannot build the wirecat CLI (see above)');
    }
  }
  const copy = join(runDir, 'wirecat-cli');
  cpSync(join(ROOT, 'dist/cli'), copy, { recursive: true });
  return { cli: join(copy, 'wirecat.js'), how };
}

function gitState() {
  const rev = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const changed = (dirty.stdout ?? '').split('\n').filter(Boolean).length;
  return `${(rev.stdout ?? '?').trim()}${changed ? ` + ${changed} uncommitted src file(s)` : ''}`;
}

function pythonExecutable() {
  // pyenv's python3 is a shell shim; the real binary keeps one-shot timings honest.
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'python3';
}

const rotate = (xs, n) => xs.map((_, i) => xs[(i + n) % xs.length]);

function portOf(opts, scenario, kind) {
  return (
    opts.portBase + 10 * SCENARIO_NAMES.indexOf(scenario) + Math.max(0, SERVER_KINDS.indexOf(kind))
  );
}

async function ensurePortFree(transport, port) {
  if (!(await portFree(transport, port))) {
    throw new Error(
      `${transport} port ${port} on 127.0.0.1 is in use by another program; pick another --port-base`,
    );
  }
}

/** One rep of one server in a load scenario: start it fresh, check it, load it, stop it. */
async function loadRep(run, scenario, kind, rep) {
  const port = portOf(run.opts, scenario.name, kind);
  const argv = scenario.servers[kind](port);
  const log = join(run.dir, 'logs', `${scenario.name}-${kind}-r${rep}.log`);
  const server = startServer(argv, SERVER_CPU, log);
  const record = { type: 'rep', scenario: scenario.name, who: kind, rep, port, argv, ok: false };
  try {
    await waitReady(server, scenario.transport, port);
    if (scenario.checkDaytime) {
      const reply = (await readReply(port)).toString('latin1');
      if (!DAYTIME_REPLY.test(reply)) {
        record.rc = 2;
        record.error = `wrong daytime reply ${JSON.stringify(reply.slice(0, 60))}`;
        return record;
      }
    }
    const args = [
      '-c',
      String(CLIENT_CPU),
      LOADGEN,
      '--port',
      String(port),
      '--pid',
      String(server.pid),
      '--label',
      `${scenario.name}/${kind}/r${rep}`,
      ...scenario.loadgen,
    ];
    const bound =
      (run.opts.secs + run.opts.warmup) * 1000 + (scenario.idle ? IDLE_SLACK_MS : LOADGEN_SLACK_MS);
    const r = await runBounded('taskset', args, bound);
    const jsonLine = r.stdout.split('\n').findLast((l) => l.startsWith('{'));
    if (!jsonLine) {
      throw new Error(
        `loadgen gave no result (exit ${r.code}${r.timedOut ? ', killed after the time limit' : ''}): ${r.stderr.trim() || r.stdout.trim()}`,
      );
    }
    const json = JSON.parse(jsonLine);
    if (json.rc === 1 || r.code === 1) throw new Error(`loadgen usage error: ${r.stderr.trim()}`);
    Object.assign(record, {
      rc: r.code,
      loadgen: json,
      serverCpu: json.cpu?.server_pct >= 0 ? json.cpu.server_pct : undefined,
      clientCpu: json.cpu?.client_pct,
      bgCores: json.cpu?.other_cores,
    });
    if (r.code === 0) {
      record.ok = true;
      record.figure = scenario.figure(json);
      const cost = scenario.cost?.(json);
      if (cost) Object.assign(record, { cpuPerOp: cost.value, cpuUnit: cost.unit });
    } else {
      const why =
        {
          2: 'wrong or missing bytes, early close, stall or loss',
          3: 'nothing completed',
          4: 'hard deadline hit',
        }[r.code] ?? 'failed';
      const loss = json.udp ? `; ${json.udp.loss_pct.toFixed(2)} % of datagrams lost` : '';
      record.error = `loadgen exit ${r.code} (${why}): ${json.first_error || 'no error detail'}${loss}`;
    }
    return record;
  } finally {
    await stopServer(server);
  }
}

async function runLoadScenario(run, scenario, records) {
  const kinds = run.opts.servers.filter((k) => scenario.servers[k]);
  for (const kind of kinds)
    await ensurePortFree(scenario.transport, portOf(run.opts, scenario.name, kind));
  for (let rep = 1; rep <= run.opts.reps; rep++) {
    for (const kind of rotate(kinds, rep - 1)) {
      const record = await loadRep(run, scenario, kind, rep);
      record.ts = new Date().toISOString();
      run.write(record);
      records.push(record);
      const tag = `[${scenario.name} r${rep}/${run.opts.reps}] ${LABELS[kind]}`;
      if (record.ok) {
        const noisy =
          record.bgCores > NOISY_CORES ? ` NOISY (${fmt(record.bgCores, 2)} foreign cores)` : '';
        say(
          `${tag}: ${fmt(record.figure)} ${scenario.unit} (server CPU ${fmt(record.serverCpu, 0)} %, loadgen ${fmt(record.clientCpu, 0)} %)${noisy}`,
        );
      } else {
        run.failed(`${scenario.name}/${kind} rep ${rep}: ${record.error}`, kind === 'wirecat');
      }
    }
  }
}

/** Run every client once and check it printed a daytime line: no timing for wrong output. */
async function checkClients(clients) {
  const bad = new Map();
  for (const c of clients.filter((x) => !x.startupOnly)) {
    const r = await runBounded(c.argv[0], c.argv.slice(1), 15_000);
    if (r.code !== 0 || !DAYTIME_REPLY.test(r.stdout)) {
      bad.set(
        c.name,
        `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}, printed ${JSON.stringify(r.stdout.slice(0, 60))} ${r.stderr.trim().slice(0, 120)}`,
      );
    }
  }
  return bad;
}

async function runOneShot(run, entry) {
  const port = portOf(run.opts, 'oneshot', 'node');
  await ensurePortFree('tcp', port);
  const all = oneShotClients(run.ctx, port);
  const clients = all.filter(
    (c) => c.kind === 'nc' || c.kind === 'ref' || run.opts.servers.includes(c.kind),
  );
  entry.order = clients.map((c) => c.name);
  const records = entry.records;
  const serverArgv = [
    run.ctx.node,
    join(BENCH_DIR, 'servers/node-server.mjs'),
    'daytime',
    String(port),
  ];
  for (let rep = 1; rep <= run.opts.reps; rep++) {
    const log = join(run.dir, 'logs', `oneshot-daytime-r${rep}.log`);
    const server = startServer(serverArgv, SERVER_CPU, log);
    try {
      await waitReady(server, 'tcp', port);
      const bad = await checkClients(clients);
      const timed = rotate(
        clients.filter((c) => !bad.has(c.name)),
        rep - 1,
      );
      const out = join(run.dir, `oneshot-r${rep}.json`);
      const args = [
        '-c',
        String(CLIENT_CPU),
        'hyperfine',
        '-N',
        '--warmup',
        '3',
        '--runs',
        String(run.opts.runs),
        '--style',
        'none',
        '--export-json',
        out,
      ];
      for (const c of timed) args.push('-n', c.name, c.argv.join(' '));
      const limit = 60_000 + timed.length * run.opts.runs * 2_000;
      const r = timed.length ? await runBounded('taskset', args, limit) : { code: 0 };
      if (r.code !== 0)
        throw new Error(
          `hyperfine failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}): ${r.stderr.trim()}`,
        );
      const results = timed.length ? JSON.parse(readFileSync(out, 'utf8')).results : [];
      for (const c of clients) {
        const h = results.find((x) => x.command === c.name);
        const record = {
          type: 'rep',
          scenario: 'oneshot',
          who: c.name,
          rep,
          port,
          argv: c.argv,
          ts: new Date().toISOString(),
        };
        if (bad.has(c.name)) {
          Object.assign(record, { ok: false, rc: 2, error: `wrong reply: ${bad.get(c.name)}` });
        } else {
          Object.assign(record, {
            ok: true,
            figure: h.mean * 1000,
            hyperfine: {
              mean: h.mean,
              stddev: h.stddev,
              median: h.median,
              min: h.min,
              max: h.max,
              runs: h.times.length,
            },
          });
          say(
            `[oneshot r${rep}/${run.opts.reps}] ${c.name}: ${fmt(record.figure)} ms ± ${fmt(h.stddev * 1000)}`,
          );
        }
        records.push(record);
        run.write(record);
        if (!record.ok)
          run.failed(`oneshot/${c.name} rep ${rep}: ${record.error}`, c.kind === 'wirecat');
      }
    } finally {
      await stopServer(server);
    }
  }
}

function header(run) {
  const o = run.opts;
  return [
    `wirecat bench ${run.started.toISOString().slice(0, 16).replace('T', ' ')} UTC: ${o.reps} interleaved rep(s) x ${o.secs} s (+${o.warmup} s warm-up), servers on CPU${SERVER_CPU}, clients on CPU${CLIENT_CPU}`,
    `wirecat ${run.git} (${run.cliHow}); node ${process.version}; load average before the run ${run.loadBefore}; after ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
    `ratios: median over reps of (figure / the reference's figure in the same rep); for idle and oneshot lower figures are better`,
  ].join('\n');
}

async function main() {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    say(`wirecat-bench: ${err.message}\n\n${HELP}`);
    return 1;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (opts.selftest) return (await import('./lib/selftest.mjs')).selftest(BENCH_DIR);
  preflight(opts);
  buildLoadgen();
  const started = new Date();
  const dir = join(
    resolve(opts.out ?? join(BENCH_DIR, 'out')),
    started.toISOString().replace(/[:.]/g, '-').slice(0, 19),
  );
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const rawFile = join(dir, 'raw.jsonl');
  const failures = [];
  const run = {
    opts,
    dir,
    started,
    git: gitState(),
    loadBefore: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
    cli: '',
    ctx: undefined,
    write: (obj) => writeFileSync(rawFile, `${JSON.stringify(obj)}\n`, { flag: 'a' }),
    // A wrong reply from wirecat stops the run (exit 2); a reference server's failure only
    // blanks its cell (socat and python are known to drop or stall under some loads).
    failed: (message, isWirecat) => {
      failures.push({ message, wirecat: isWirecat });
      say(`wirecat-bench: ${isWirecat ? 'FAILED' : 'reference server failed'}: ${message}`);
      if (isWirecat && !opts.keepGoing) throw new WrongReply(message);
    },
  };
  const prepared = prepareWirecat(opts, dir);
  run.cli = prepared.cli;
  run.cliHow = prepared.how;
  run.ctx = {
    node: process.execPath,
    cli: run.cli,
    python: pythonExecutable(),
    benchDir: BENCH_DIR,
    secs: opts.secs,
    warmup: opts.warmup,
    idleConns: opts.idleConns,
  };
  run.write({
    type: 'meta',
    date: started.toISOString(),
    argv: process.argv.slice(2),
    options: opts,
    git: run.git,
    cli: run.cli,
    cliHow: run.cliHow,
    node: process.version,
    python: firstLine(run.ctx.python, ['--version']),
    socat: firstLine('socat', ['-V'], /version/),
    hyperfine: firstLine('hyperfine', ['--version']),
    loadavg: loadavg(),
    uptime: firstLine('uptime', []),
  });
  say(`wirecat-bench: writing ${rawFile}; load average ${run.loadBefore}`);
  if (loadavg()[0] > 0.5)
    say(
      'wirecat-bench: the machine is busy (load average > 0.5): figures will be noisy; ratios from interleaved reps are still usable',
    );

  const collected = [];
  let stopped;
  try {
    for (const scenario of loadScenarios(run.ctx).filter((s) => opts.scenarios.includes(s.name))) {
      const entry = {
        scenario,
        records: [],
        order: SERVER_KINDS,
        refs: { node: 'node', socat: 'socat' },
      };
      collected.push(entry);
      await runLoadScenario(run, scenario, entry.records);
    }
    if (opts.scenarios.includes('oneshot')) {
      const entry = {
        scenario: ONESHOT,
        records: [],
        order: [],
        refs: { node: 'node net client', socat: 'socat' },
      };
      collected.push(entry);
      await runOneShot(run, entry);
    }
  } catch (err) {
    if (!(err instanceof WrongReply)) throw err;
    stopped = err.message;
  }
  const results = collected.map(({ scenario, records, order, refs }) => {
    const rows = scenarioRows(records, order, refs);
    for (const row of rows) row.label = LABELS[row.who] ?? row.who;
    return { scenario, rows };
  });

  const checks = evaluate(results, NCAT_MS);
  const titles = results
    .map(({ scenario }) => `- ${scenario.name}: ${scenario.title} (${scenario.unit})`)
    .join('\n');
  const summary = `${header(run)}\n\n${titles}\n\n${renderTable(results)}\n\n${renderChecks(checks)}\n`;
  process.stdout.write(`\n${summary}`);
  writeFileSync(join(dir, 'summary.md'), summary);
  run.write({
    type: 'summary',
    results: results.map((r) => ({ scenario: r.scenario.name, rows: r.rows })),
    checks,
    failures,
  });
  say(`\nraw data: ${rawFile}\ntable: ${join(dir, 'summary.md')}`);
  const list = (xs) => xs.map((f) => `  ${f.message}`).join('\n');
  const references = failures.filter((f) => !f.wirecat);
  if (references.length) {
    say(
      `\nwirecat-bench: ${references.length} reference run(s) failed (no figure shown, comparisons with them are n/a):\n${list(references)}`,
    );
  }
  const mine = failures.filter((f) => f.wirecat);
  if (mine.length) {
    say(
      `\nwirecat-bench: FAILED: wirecat returned wrong bytes, lost data or stalled in ${mine.length} run(s); no figure is shown for them:\n${list(mine)}`,
    );
    if (stopped)
      say('wirecat-bench: stopped at the first wirecat failure (--keep-going measures the rest)');
    return 2;
  }
  if (opts.strict && checks.some((c) => c.kind === 'floor' && c.holds === false)) {
    say('wirecat-bench: a floor failed (--strict)');
    return 1;
  }
  return 0;
}

process.on('SIGINT', () => {
  killAllServers();
  process.exit(130);
});
process.on('SIGTERM', () => {
  killAllServers();
  process.exit(143);
});

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    killAllServers();
    say(`wirecat-bench: ${err.message}`);
    process.exitCode = 1;
  },
);
