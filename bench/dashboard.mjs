// What watching costs: echo round trips/s (100 conns x 64 B, loadgen) for `wirecat serve`
// (a) with no subscriber, (b) with --dashboard and no viewer, (c) with --dashboard and a
// viewer reading the SSE stream of a busy connection's flow. Interleaved reps, paired ratios.
// Usage: node bench/dashboard.mjs [--reps 3] [--secs 5]   (needs npm run build, bench/loadgen)

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runBounded, startServer, stopServer, waitReady } from './lib/proc.mjs';
import { median } from './lib/summary.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const CLI = join(here, '..', 'dist', 'cli', 'wirecat.js');
const LOADGEN = join(here, 'loadgen');
const ECHO_PORT = 27201;
const DASH_PORT = 27202;

const { values } = parseArgs({
  options: { reps: { type: 'string', default: '3' }, secs: { type: 'string', default: '5' } },
});
const reps = Number(values.reps);
const secs = Number(values.secs);
if (!existsSync(LOADGEN))
  throw new Error(
    `build the load generator: cc -O2 -o bench/loadgen /work/shared/bench/loadgen.c -lm`,
  );
if (!existsSync(CLI)) throw new Error('build wirecat first: npm run build');

const outDir = join(here, 'out', `dashboard-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(outDir, { recursive: true });

const SCENARIOS = {
  a: { what: 'no subscriber', args: [] },
  b: { what: '--dashboard, no viewer', args: [`--dashboard=127.0.0.1:${DASH_PORT}`] },
  c: {
    what: '--dashboard, a viewer on a busy flow',
    args: [`--dashboard=127.0.0.1:${DASH_PORT}`],
    viewer: true,
  },
};

/** Read the SSE stream of one busy connection's flow; returns stop() -> bytes/messages read. */
async function watchBusyFlow() {
  const snap = await (await fetch(`http://127.0.0.1:${DASH_PORT}/api/snapshot`)).json();
  const busy = snap.connections.find((c) => c.state === 'open');
  const stats = { messages: 0, bytes: 0 };
  const req = http.get(`http://127.0.0.1:${DASH_PORT}/events?flow=${busy?.key ?? ''}`, (res) => {
    res.on('data', (d) => {
      stats.bytes += d.length;
      stats.messages += d.toString().split('\n\n').length - 1;
    });
  });
  req.on('error', () => {});
  return () => {
    req.destroy();
    return stats;
  };
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function runOne(key, rep) {
  const s = SCENARIOS[key];
  const server = startServer(
    [process.execPath, CLI, 'serve', `echo=tcp://127.0.0.1:${ECHO_PORT}`, ...s.args],
    1,
    join(outDir, `server-${key}-${rep}.log`),
  );
  try {
    await waitReady(server, 'tcp', ECHO_PORT);
    const before = loadavg();
    const load = runBounded(
      'taskset',
      [
        '-c',
        '0',
        LOADGEN,
        '--mode',
        'echo',
        '--port',
        String(ECHO_PORT),
        '--conns',
        '100',
        '--size',
        '64',
        '--secs',
        String(secs),
        '--warmup',
        '1',
        '--pid',
        String(server.pid),
      ],
      (secs + 30) * 1000,
    );
    let stop;
    if (s.viewer) {
      await sleep(500); // during warm-up, once the connections exist
      stop = await watchBusyFlow();
    }
    const r = await load;
    const viewer = stop?.();
    const json = JSON.parse(r.stdout.trim().split('\n').at(-1));
    return {
      key,
      rep,
      ok: r.code === 0,
      rtps: json.ops_per_s,
      serverPct: json.cpu?.server_pct,
      otherCores: json.cpu?.other_cores,
      loadavg: before,
      viewer,
    };
  } finally {
    await stopServer(server);
  }
}

const results = [];
for (let rep = 1; rep <= reps; rep++) {
  for (const key of Object.keys(SCENARIOS)) {
    const r = await runOne(key, rep);
    results.push(r);
    console.log(
      `rep ${rep} ${key} ${SCENARIOS[key].what}: ${Math.round(r.rtps)} rt/s, server ${r.serverPct}% cpu, other cores ${r.otherCores}, loadavg ${r.loadavg}${r.viewer ? `, viewer got ${r.viewer.messages} messages / ${r.viewer.bytes} B` : ''}${r.ok ? '' : ' (loadgen reported errors)'}`,
    );
  }
}

const paired = (x, y) =>
  median(
    results
      .filter((r) => r.key === x)
      .map((r) => r.rtps / results.find((q) => q.key === y && q.rep === r.rep).rtps),
  );
console.log('\n| scenario | median rt/s | ratio |');
console.log('|---|---|---|');
for (const [key, s] of Object.entries(SCENARIOS)) {
  const ratio = key === 'a' ? '1.00' : `${paired(key, 'a').toFixed(3)} vs (a)`;
  const rt = median(results.filter((r) => r.key === key).map((r) => r.rtps));
  console.log(`| (${key}) ${s.what} | ${Math.round(rt)} | ${ratio} |`);
}
console.log(`| (c) vs (b): page open vs closed | | ${paired('c', 'b').toFixed(3)} |`);
console.log(`\nraw logs: ${outDir}`);
