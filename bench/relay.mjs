// `node bench/relay.mjs`: `wirecat relay -k` beside `socat TCP-LISTEN:…,fork TCP:…` and two
// bare node:net relays (servers/node-relay.mjs: pipe(), what anyone writes; and
// servers/node-relay-onread.mjs: the leanest per-chunk path node:net allows, the floor Node
// itself sets) in the same run, all in front of the same C echo server (shared/bench/cecho.c),
// loaded by the same client (shared/bench/loadgen.c). Measures throughput (stream, 1 and 8
// connections), the latency a relay adds to a 64-byte round trip (p50/p99 minus the direct
// path's) and the relay's CPU per round trip.
// Reps are interleaved (direct, wirecat, socat, direct, …); the table shows medians. A p99
// from one 3-second run swings by ±20 % on this VM (cross-vCPU wake-ups), so the default is
// 15 reps (about 13 minutes): with 3, which relay "wins" at p99 was a coin toss, and with 7
// or 9 runs of the same build still disagreed.
// Options: --reps N (15), --secs S (3), --port-base P (27900).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const OUT = join(BENCH, 'out');
const LOADGEN = join(BENCH, 'loadgen');
const CECHO = join(OUT, 'cecho');
const SHARED = '/work/shared/bench';
/** The relays run on this CPU; upstream and load generator on the other. */
const RELAY_CPU = '1';
const CLIENT_CPU = '0';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '15' },
    secs: { type: 'string', default: '3' },
    'port-base': { type: 'string', default: '27900' },
  },
});
const reps = Number(values.reps);
const secs = Number(values.secs);
const base = Number(values['port-base']);
const ports = {
  upstream: base,
  wirecat: base + 1,
  socat: base + 2,
  node: base + 3,
  onread: base + 4,
};

const say = (text) => process.stderr.write(`${text}\n`);

function build(output, source, extra = []) {
  if (existsSync(output)) return;
  const r = spawnSync('cc', ['-O2', '-o', output, source, ...extra], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`cannot build ${output}`);
}

function waitPort(port, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((res, rej) => {
    const attempt = () => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.once('connect', () => {
        s.destroy();
        res();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) rej(new Error(`nothing listens on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

const children = [];
function start(cmd, args) {
  const child = spawn('taskset', ['-c', cmd === CECHO ? CLIENT_CPU : RELAY_CPU, cmd, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}
function stopAll() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
}
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));

function loadgen(args) {
  const r = spawnSync('taskset', ['-c', CLIENT_CPU, LOADGEN, ...args], {
    encoding: 'utf8',
    timeout: (secs + 60) * 1000,
  });
  const json = (r.stdout ?? '').split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || !json)
    throw new Error(`loadgen ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return JSON.parse(json);
}

const NAMES = {
  direct: 'direct (no relay)',
  wirecat: 'wirecat relay -k',
  socat: 'socat fork',
  node: 'bare node pipe()',
  onread: 'lean node onread',
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  mkdirSync(OUT, { recursive: true });
  build(LOADGEN, join(SHARED, 'loadgen.c'), ['-lm']);
  build(CECHO, join(SHARED, 'cecho.c'));
  const wirecat = join(ROOT, 'dist/cli/wirecat.js');
  if (!existsSync(wirecat)) throw new Error('build first: npm run build');
  const pids = {};
  pids.direct = start(CECHO, ['127.0.0.1', String(ports.upstream)]).pid;
  pids.wirecat = start(process.execPath, [
    wirecat,
    'relay',
    `tcp://127.0.0.1:${ports.wirecat}`,
    `tcp://127.0.0.1:${ports.upstream}`,
    '--keep-open',
  ]).pid;
  pids.node = start(process.execPath, [
    join(BENCH, 'servers/node-relay.mjs'),
    String(ports.node),
    String(ports.upstream),
  ]).pid;
  pids.onread = start(process.execPath, [
    join(BENCH, 'servers/node-relay-onread.mjs'),
    String(ports.onread),
    String(ports.upstream),
  ]).pid;
  pids.socat = start('socat', [
    `TCP-LISTEN:${ports.socat},bind=127.0.0.1,fork,reuseaddr`,
    `TCP:127.0.0.1:${ports.upstream}`,
  ]).pid;
  await Promise.all(Object.values(ports).map((p) => waitPort(p)));
  const versions = {
    node: process.version,
    socat: spawnSync('socat', ['-V'], { encoding: 'utf8' }).stdout.split('\n')[1]?.trim(),
  };
  say(`relay bench: ${reps} reps × ${secs} s; ${versions.node}; ${versions.socat}`);
  const targets = ['direct', 'wirecat', 'socat', 'node', 'onread'];
  const portOf = { direct: ports.upstream, ...ports };
  const relays = targets.filter((t) => t !== 'direct');
  const results = Object.fromEntries(targets.map((t) => [t, []]));
  const lines = [];
  // One untimed pass first: node's JIT compiles the relay's paths during its first seconds
  // of load (on the relay's own CPU), which would land in rep 1 only.
  for (const target of targets) {
    const port = ['--port', String(portOf[target]), '--warmup', '0'];
    loadgen([...'--mode echo --conns 1 --size 64 --secs 2'.split(' '), ...port]);
    loadgen([...'--mode stream --conns 8 --secs 1'.split(' '), ...port]);
  }
  for (let rep = 1; rep <= reps; rep++) {
    for (const target of targets) {
      const port = String(portOf[target]);
      const common = ['--port', port, '--secs', String(secs), '--warmup', '0.5', '--label', target];
      const s1 = loadgen(['--mode', 'stream', '--conns', '1', ...common]);
      const s8 = loadgen(['--mode', 'stream', '--conns', '8', ...common]);
      // --pid: CPU of the relay's process tree (socat's forks included), steadier than a p99.
      const echo = loadgen([
        ...['--mode', 'echo', '--conns', '1', '--size', '64', '--pid', String(pids[target])],
        ...common,
      ]);
      const row = {
        rep,
        target,
        stream1_mbs: s1.mb_per_s,
        stream8_mbs: s8.mb_per_s,
        echo_p50_us: echo.lat_us.p50,
        echo_p99_us: echo.lat_us.p99,
        echo_ops: echo.ops_per_s,
        echo_cpu_us: ((echo.cpu?.server_pct ?? 0) / 100 / echo.ops_per_s) * 1e6,
        other_cores: Math.max(s1.cpu?.other_cores ?? 0, echo.cpu?.other_cores ?? 0),
      };
      results[target].push(row);
      lines.push(JSON.stringify(row));
      say(
        `rep ${rep} ${target.padEnd(7)} stream1 ${row.stream1_mbs.toFixed(0)} MB/s, stream8 ${row.stream8_mbs.toFixed(0)} MB/s, echo p50 ${row.echo_p50_us} us p99 ${row.echo_p99_us} us`,
      );
    }
  }
  const m = (target, key) => median(results[target].map((r) => r[key]));
  const direct = { p50: m('direct', 'echo_p50_us'), p99: m('direct', 'echo_p99_us') };
  const table = [
    '| path | stream 1 conn MB/s | stream 8 conns MB/s | echo 64 B p50 µs | echo p99 µs | added p50 µs | added p99 µs | relay CPU µs per round trip |',
    '|---|---|---|---|---|---|---|---|',
    ...targets.map((t) => {
      const p50 = m(t, 'echo_p50_us');
      const p99 = m(t, 'echo_p99_us');
      const cells =
        t === 'direct'
          ? ['—', '—', '—']
          : [
              (p50 - direct.p50).toFixed(1),
              (p99 - direct.p99).toFixed(1),
              m(t, 'echo_cpu_us').toFixed(1),
            ];
      return `| ${NAMES[t]} | ${m(t, 'stream1_mbs').toFixed(0)} | ${m(t, 'stream8_mbs').toFixed(0)} | ${p50.toFixed(1)} | ${p99.toFixed(1)} | ${cells.join(' | ')} |`;
    }),
  ];
  const verdict = [
    `throughput (8 conns) wirecat/socat: ${(m('wirecat', 'stream8_mbs') / m('socat', 'stream8_mbs')).toFixed(2)}×, (1 conn): ${(m('wirecat', 'stream1_mbs') / m('socat', 'stream1_mbs')).toFixed(2)}×`,
    `added p99: ${relays.map((t) => `${t} ${(m(t, 'echo_p99_us') - direct.p99).toFixed(1)} µs`).join(', ')}`,
    `p99 per rep (µs): ${relays.map((t) => `${t} ${results[t].map((r) => r.echo_p99_us.toFixed(0)).join(' ')}`).join('; ')}`,
  ];
  const report = `${table.join('\n')}\n\n${verdict.join('\n')}\n`;
  process.stdout.write(report);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(OUT, `relay-${stamp}.jsonl`), `${lines.join('\n')}\n`);
  writeFileSync(join(OUT, `relay-${stamp}.md`), report);
}

main()
  .catch((err) => {
    say(`relay bench: ${err.message}`);
    process.exitCode = 1;
  })
  .finally(stopAll);
