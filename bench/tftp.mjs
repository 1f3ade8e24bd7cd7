// TFTP on loopback: wirecat's server vs tftpd-hpa (in.tftpd) with the same clients (curl,
// tftp-hpa, wirecat tftp), 64 MiB downloads and uploads at blksize 512, 1428 and 65464
// (windowsize 1 and 16 where the client has it), reps interleaved, medians and paired ratios;
// lock-step transfers also with a bare node:dgram server (servers/node-tftp.mjs), the floor
// Node itself sets; then each server's memory while 20 transfers run at once. Method: /work/shared/research/
// tftp-anchors.md and bench/README.md ("TFTP"). Needs root (`in.tftpd -s` chroots).
// Servers are pinned to CPU1 and clients to CPU0; every server and client is started here and
// stopped by its own pid (servers: their own process group); every run has a time limit.

import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { killAllServers, portFree, runBounded, startServer, stopServer } from './lib/proc.mjs';
import { median } from './lib/summary.mjs';

const HELP = `Usage: node bench/tftp.mjs [options]

  --runs N            interleaved reps per cell (default 3)
  --size-mib N        file size for the throughput cells (default 64)
  --only LIST         get,put,mem (default all three)
  --clients LIST      curl,tftp-hpa,wirecat (default all three)
  --blksizes LIST     default 512,1428,65464
  --concurrent N      transfers at once in the memory phase (default 20)
  --mem-size-mib N    file size in the memory phase (default 16)
  --timeout-s S       limit per client run (default 300)
  --wait-load L       first wait (up to --wait-max-s) until the 1-min load average is below L
  --wait-max-s S      default 600
  --wirecat PATH      the CLI to measure (default: a copy of dist/cli taken at the start)
  --port-base P       wirecat on P, in.tftpd on P+1, the bare node floor on P+2 (default 17069)
`;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'size-mib': { type: 'string', default: '64' },
    only: { type: 'string', default: 'get,put,mem' },
    clients: { type: 'string', default: 'curl,tftp-hpa,wirecat' },
    blksizes: { type: 'string', default: '512,1428,65464' },
    concurrent: { type: 'string', default: '20' },
    'mem-size-mib': { type: 'string', default: '16' },
    'timeout-s': { type: 'string', default: '300' },
    'wait-load': { type: 'string' },
    'wait-max-s': { type: 'string', default: '600' },
    wirecat: { type: 'string' },
    'port-base': { type: 'string', default: '17069' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const RUNS = Number(values.runs);
const SIZE = Number(values['size-mib']) * 1_048_576;
const MEM_SIZE = Number(values['mem-size-mib']) * 1_048_576;
const CONCURRENT = Number(values.concurrent);
const TIMEOUT_MS = Number(values['timeout-s']) * 1000;
const ONLY = new Set(values.only.split(','));
const CLIENTS = new Set(values.clients.split(','));
const BLKSIZES = values.blksizes.split(',').map(Number);
const PORT = {
  wirecat: Number(values['port-base']),
  hpa: Number(values['port-base']) + 1,
  node: Number(values['port-base']) + 2,
};
const SERVER_CPU = 1;
const CLIENT_CPU = 0;
/** How often the server's process tree is sampled for CPU time (forks) and memory. */
const SAMPLE_MS = 20;
/** A run where other processes kept this many cores busy on average is flagged noisy. */
const NOISY_CORES = 0.25;
const TICK = 100; // USER_HZ: /proc CPU times are in 1/100 s

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const outDir = join(REPO, 'bench/out', `tftp-${stamp}`);
const work = `/dev/shm/wirecat-tftp-bench-${process.pid}`;
const root = join(work, 'root');
mkdirSync(root, { recursive: true });
mkdirSync(join(outDir, 'logs'), { recursive: true });

for (const tool of ['in.tftpd', 'curl', 'tftp', 'taskset']) {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    console.error(`bench/tftp.mjs: ${tool} is not installed`);
    process.exit(1);
  }
}
if (process.getuid?.() !== 0) {
  console.error('bench/tftp.mjs: run as root (in.tftpd -s chroots into the served folder)');
  process.exit(1);
}

// The CLI measured is a private copy, so a rebuild by someone else mid-run changes nothing.
let cli = values.wirecat;
if (!cli) {
  const dist = join(REPO, 'dist/cli');
  if (!existsSync(join(dist, 'wirecat.js'))) execFileSync('npm', ['run', 'build'], { cwd: REPO });
  cpSync(dist, join(outDir, 'wirecat-cli'), { recursive: true });
  cli = join(outDir, 'wirecat-cli/wirecat.js');
}

const cleanup = () => {
  killAllServers();
  rmSync(work, { recursive: true, force: true });
};
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
const load1 = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

if (values['wait-load']) {
  const limit = Number(values['wait-load']);
  const until = Date.now() + Number(values['wait-max-s']) * 1000;
  while (load1() >= limit && Date.now() < until) {
    console.error(`load ${load1()} >= ${limit}: waiting (until ${new Date(until).toISOString()})`);
    await sleep(15_000);
  }
}

writeFileSync(join(root, 'f.bin'), randomBytes(SIZE));
writeFileSync(join(root, 'm.bin'), randomBytes(MEM_SIZE));
const DIGEST = { 'f.bin': sha256(join(root, 'f.bin')), 'm.bin': sha256(join(root, 'm.bin')) };

// ---- /proc accounting ------------------------------------------------------------------

function procStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields 14..17 of stat(5) are f[11..14] here: utime stime cutime cstime
    return { cpu: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The server's process tree: the leader (taskset exec'd the server) and its forks. */
function tree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i]));
  return out;
}

function statusKb(pid, field) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(
      new RegExp(`^${field}:\\s+(\\d+)`, 'm'),
    );
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function pssKb(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+)/m);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Non-idle ticks of the whole machine (all CPUs). */
function busyTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  return f[0] + f[1] + f[2] + f[5] + f[6] + f[7]; // user nice system irq softirq steal
}

/**
 * Samples a server tree every SAMPLE_MS: CPU ticks (the leader's own plus the last value seen of
 * each fork: in.tftpd ignores SIGCHLD, so its children's time never reaches cutime; the last
 * ≤ SAMPLE_MS of a fork is missed) and memory (RSS and PSS summed over the tree, peak).
 */
function sampler(pid) {
  const start = procStat(pid)?.cpu ?? 0;
  // Forks still running from before (in.tftpd's upload forks linger for a late DATA): only
  // their time from now on counts.
  const before = new Map();
  for (const p of tree(pid).slice(1)) before.set(p, procStat(p)?.cpu ?? 0);
  const forks = new Map();
  let leader = start;
  let peakRss = 0;
  let peakPss = 0;
  const take = (withMemory) => {
    const pids = tree(pid);
    let rss = 0;
    let pss = 0;
    for (const p of pids) {
      const s = procStat(p);
      if (!s) continue;
      if (p === pid) leader = s.cpu;
      else forks.set(p, s.cpu);
      if (withMemory) {
        rss += statusKb(p, 'VmRSS');
        pss += pssKb(p);
      }
    }
    peakRss = Math.max(peakRss, rss);
    peakPss = Math.max(peakPss, pss);
  };
  let withMemory = false;
  const timer = setInterval(() => take(withMemory), SAMPLE_MS);
  return {
    memory(on) {
      withMemory = on;
    },
    stop() {
      clearInterval(timer);
      take(withMemory);
      let cpu = leader - start;
      for (const [p, v] of forks) cpu += v - (before.get(p) ?? 0);
      return { cpuS: cpu / TICK, peakRssKb: peakRss, peakPssKb: peakPss };
    },
  };
}

// ---- servers ---------------------------------------------------------------------------

const servers = {};

async function ready(port) {
  // An RRQ for a missing file: both servers answer ERROR 1 (in.tftpd from a fork's port).
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const s = dgram.createSocket('udp4');
      const t = setTimeout(() => done(false), 200);
      const done = (v) => {
        clearTimeout(t);
        s.close();
        resolve(v);
      };
      s.once('message', (m) => done(m.length >= 4 && m[1] === 5));
      s.once('error', () => done(false));
      s.send(Buffer.from('\0\x01no-such-file\0octet\0', 'latin1'), port, '127.0.0.1');
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`no TFTP server answered on 127.0.0.1:${port}`);
}

const SERVER_ARGV = {
  wirecat: () => [
    process.execPath,
    cli,
    'serve',
    `tftp=udp://127.0.0.1:${PORT.wirecat}`,
    '--root',
    root,
    '--allow-write',
  ],
  // -c: create on upload; -u root: the files in tmpfs belong to root; -s: chroot.
  hpa: () => ['in.tftpd', '-L', '-a', `127.0.0.1:${PORT.hpa}`, '-s', '-c', '-u', 'root', root],
  // Lock-step only: it answers no windowsize.
  node: () => [
    process.execPath,
    join(REPO, 'bench/servers/node-tftp.mjs'),
    String(PORT.node),
    root,
  ],
};
/** The cells the bare node floor runs in. */
const hasFloor = (cell) => cell.windowsize === 1;

async function startOne(who) {
  if (!(await portFree('udp', PORT[who])))
    throw new Error(`UDP port ${PORT[who]} is in use: --port-base`);
  servers[who] = startServer(SERVER_ARGV[who](), SERVER_CPU, join(outDir, `logs/${who}.log`));
  await ready(PORT[who]);
}

async function startServers() {
  for (const who of Object.keys(PORT)) await startOne(who);
}

/** A fresh server, so its memory before the test is its memory at rest. */
async function restart(who) {
  await stopServer(servers[who]);
  await startOne(who);
}

// ---- clients ---------------------------------------------------------------------------

const URL_OF = (port, name) => `tftp://127.0.0.1:${port}/${name}`;

/** [cmd, args] of one client run. `local` is where a GET writes or what a PUT reads. */
function clientArgv(cell, port, remote, local) {
  const { client, dir, blksize, windowsize } = cell;
  if (client === 'curl')
    return dir === 'get'
      ? ['curl', ['-sS', '--tftp-blksize', String(blksize), '-o', local, URL_OF(port, remote)]]
      : ['curl', ['-sS', '--tftp-blksize', String(blksize), '-T', local, URL_OF(port, remote)]];
  if (client === 'tftp-hpa')
    return [
      'tftp',
      [
        '-m',
        'binary',
        '127.0.0.1',
        String(port),
        '-c',
        dir,
        ...(dir === 'get' ? [remote, local] : [local, remote]),
      ],
    ];
  const files = dir === 'get' ? [remote, local] : [local, remote];
  return [
    process.execPath,
    [
      cli,
      'tftp',
      dir,
      `127.0.0.1:${port}`,
      ...files,
      '-b',
      String(blksize),
      '-w',
      String(windowsize),
      '-q',
    ],
  ];
}

const cells = [];
for (const dir of ['get', 'put']) {
  if (!ONLY.has(dir)) continue;
  for (const blksize of BLKSIZES) {
    if (CLIENTS.has('curl')) cells.push({ dir, client: 'curl', blksize, windowsize: 1 });
    if (CLIENTS.has('tftp-hpa') && blksize === 512)
      cells.push({ dir, client: 'tftp-hpa', blksize, windowsize: 1 });
    if (CLIENTS.has('wirecat'))
      for (const windowsize of [1, 16]) cells.push({ dir, client: 'wirecat', blksize, windowsize });
  }
}
const cellName = (c) =>
  `${c.dir} ${c.client} ${c.blksize}${c.client === 'wirecat' ? ` ws${c.windowsize}` : ''}`;

const raw = [];
let failures = 0;
let seq = 0;

async function runOnce(cell, who, rep) {
  const port = PORT[who];
  const server = servers[who];
  const name = `up-${who}-${++seq}.bin`;
  const local = cell.dir === 'get' ? join(work, `out-${seq}.bin`) : join(root, 'f.bin');
  const remote = cell.dir === 'get' ? 'f.bin' : name;
  const [cmd, args] = clientArgv(cell, port, remote, local);
  const sample = sampler(server.pid);
  const self0 = procStat(process.pid);
  const busy0 = busyTicks();
  const t0 = performance.now();
  const r = await runBounded('taskset', ['-c', String(CLIENT_CPU), cmd, ...args], TIMEOUT_MS);
  const seconds = (performance.now() - t0) / 1000;
  await sleep(2 * SAMPLE_MS); // let the last fork of in.tftpd be sampled or reaped
  const s = sample.stop();
  const self1 = procStat(process.pid);
  const busy = (busyTicks() - busy0) / TICK;
  const clientCpu = (self1.children - self0.children) / TICK;
  const selfCpu = (self1.cpu - self0.cpu) / TICK;
  const result = cell.dir === 'get' ? local : join(root, name);
  let ok = r.code === 0 && !r.timedOut;
  let error = ok
    ? undefined
    : `exit ${r.code ?? r.signal}${r.timedOut ? ' (time limit)' : ''}: ${r.stderr.trim().slice(0, 200)}`;
  if (ok && (!existsSync(result) || sha256(result) !== DIGEST['f.bin'])) {
    ok = false;
    error = 'wrong bytes';
  }
  rmSync(result, { force: true });
  if (!ok) failures++;
  const blocks = Math.floor(SIZE / cell.blksize) + 1;
  const rec = {
    cell: cellName(cell),
    who,
    rep,
    ok,
    error,
    seconds,
    mbps: ok ? SIZE / 1e6 / seconds : undefined,
    serverCpuS: s.cpuS,
    serverUsPerBlock: (s.cpuS * 1e6) / blocks,
    clientCpuS: clientCpu,
    foreignCores: Math.max(0, busy - s.cpuS - clientCpu - selfCpu) / seconds,
  };
  raw.push(rec);
  console.error(
    `  rep ${rep} ${rec.cell.padEnd(24)} ${who.padEnd(7)} ${ok ? `${rec.mbps.toFixed(1).padStart(7)} MB/s` : `FAILED ${error}`}  server ${rec.serverUsPerBlock.toFixed(1)} µs/block  foreign ${rec.foreignCores.toFixed(2)}${rec.foreignCores > NOISY_CORES ? ' NOISY' : ''}`,
  );
}

// ---- memory: N transfers at once -------------------------------------------------------

/**
 * N concurrent curl transfers from 127.0.0.2, .3, … (wirecat limits transfers per address), on
 * a freshly started server: RSS at rest, then the peak while they run.
 */
async function memoryOnce(who, dir, blksize, rep) {
  const port = PORT[who];
  await restart(who);
  const server = servers[who];
  await sleep(500);
  const idleRss = tree(server.pid).reduce((a, p) => a + statusKb(p, 'VmRSS'), 0);
  const sample = sampler(server.pid);
  sample.memory(true);
  const t0 = performance.now();
  const runs = [];
  for (let i = 0; i < CONCURRENT; i++) {
    const from = `127.0.0.${2 + i}`;
    const name = `m-${who}-${rep}-${i}.bin`;
    const local = dir === 'get' ? join(work, `m-out-${i}.bin`) : join(root, 'm.bin');
    const args =
      dir === 'get'
        ? [
            '-sS',
            '--interface',
            from,
            '--tftp-blksize',
            String(blksize),
            '-o',
            local,
            URL_OF(port, 'm.bin'),
          ]
        : [
            '-sS',
            '--interface',
            from,
            '--tftp-blksize',
            String(blksize),
            '-T',
            local,
            URL_OF(port, name),
          ];
    runs.push(
      runBounded('taskset', ['-c', String(CLIENT_CPU), 'curl', ...args], TIMEOUT_MS).then((r) => {
        const result = dir === 'get' ? local : join(root, name);
        const ok = r.code === 0 && existsSync(result) && sha256(result) === DIGEST['m.bin'];
        rmSync(result, { force: true });
        return ok;
      }),
    );
  }
  const oks = await Promise.all(runs);
  const seconds = (performance.now() - t0) / 1000;
  const s = sample.stop();
  const done = oks.filter(Boolean).length;
  if (done !== CONCURRENT) failures++;
  const rec = {
    cell: `mem ${dir} curl ${blksize} x${CONCURRENT}`,
    who,
    rep,
    ok: done === CONCURRENT,
    done,
    seconds,
    idleRssKb: idleRss,
    peakRssKb: s.peakRssKb,
    peakPssKb: s.peakPssKb,
  };
  raw.push(rec);
  console.error(
    `  rep ${rep} ${rec.cell.padEnd(24)} ${who.padEnd(7)} ${done}/${CONCURRENT} done in ${seconds.toFixed(1)} s, RSS idle ${(idleRss / 1024).toFixed(1)} MiB, peak ${(s.peakRssKb / 1024).toFixed(1)} MiB (PSS ${(s.peakPssKb / 1024).toFixed(1)})`,
  );
}

// ---- run -------------------------------------------------------------------------------

const header = {
  started: new Date().toISOString(),
  uptimeBefore: uptime(),
  cli,
  commit: (() => {
    try {
      const head = execFileSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], {
        encoding: 'utf8',
      }).trim();
      const dirty = execFileSync('git', ['-C', REPO, 'status', '--porcelain', 'src'], {
        encoding: 'utf8',
      }).trim();
      return dirty ? `${head} + uncommitted src/ changes` : head;
    } catch {
      return 'unknown';
    }
  })(),
  hpa: execFileSync('dpkg-query', ['-W', '-f=$' + '{Version}', 'tftpd-hpa'], {
    encoding: 'utf8',
  }),
  curl: execFileSync('curl', ['--version'], { encoding: 'utf8' }).split(' ')[1],
};
console.error(`bench/tftp.mjs: ${header.uptimeBefore}`);
try {
  await startServers();
  const memCells = ONLY.has('mem')
    ? [
        ['get', 1428],
        ['put', 65464],
      ]
    : [];
  for (let rep = 1; rep <= RUNS; rep++) {
    for (const [i, cell] of cells.entries()) {
      // Rotate which server goes first, per cell and per rep.
      const whos = hasFloor(cell) ? ['wirecat', 'hpa', 'node'] : ['wirecat', 'hpa'];
      const k = (i + rep) % whos.length;
      for (const who of [...whos.slice(k), ...whos.slice(0, k)]) await runOnce(cell, who, rep);
    }
    for (const [i, [dir, blksize]] of memCells.entries()) {
      const order = (i + rep) % 2 ? ['wirecat', 'hpa'] : ['hpa', 'wirecat'];
      for (const who of order) await memoryOnce(who, dir, blksize, rep);
    }
  }
} finally {
  for (const s of Object.values(servers)) await stopServer(s);
}
header.uptimeAfter = uptime();
for (const f of readdirSync(root))
  if (f.startsWith('up-') || f.startsWith('m-')) rmSync(join(root, f));

// ---- table -----------------------------------------------------------------------------

const noisy = (recs) => {
  const n = recs.filter((r) => r.foreignCores > NOISY_CORES).length;
  return n ? ` (${n}/${recs.length} runs > ${NOISY_CORES})` : '';
};
const fmt = (n, d = 1) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(d));
const lines = [];
lines.push(
  `${SIZE / 1_048_576} MiB, median of ${RUNS} interleaved reps, MB/s = 10^6 B/s of client wall time (start-up included); server on CPU${SERVER_CPU}, clients on CPU${CLIENT_CPU}`,
  '',
  '| transfer | client | blksize | ws | wirecat MB/s | in.tftpd MB/s | wirecat / in.tftpd | target met | bare node MB/s | wirecat / bare node | server CPU µs/block wirecat / in.tftpd / bare node | foreign cores |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
);
for (const cell of cells) {
  const name = cellName(cell);
  const recs = raw.filter((r) => r.cell === name);
  const of = (who) => recs.filter((r) => r.who === who);
  const okFig = (who) =>
    of(who)
      .filter((r) => r.ok)
      .map((r) => r.mbps);
  /** Per-rep ratios of wirecat to `who`, from the reps where both succeeded. */
  const ratiosTo = (who) => {
    const ratios = [];
    for (let rep = 1; rep <= RUNS; rep++) {
      const w = recs.find((r) => r.who === 'wirecat' && r.rep === rep && r.ok);
      const o = recs.find((r) => r.who === who && r.rep === rep && r.ok);
      if (w && o) ratios.push(w.mbps / o.mbps);
    }
    return ratios;
  };
  const range = (xs) => (xs.length > 1 ? ` [${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}]` : '');
  const cellFig = (who) => {
    const xs = okFig(who);
    const bad = of(who).length - xs.length;
    return xs.length ? `${fmt(median(xs))}${range(xs)}${bad ? ` (${bad} failed)` : ''}` : 'FAILED';
  };
  const ratio = median(ratiosTo('hpa'));
  const floor = hasFloor(cell);
  const cpu = (who) => fmt(median(of(who).map((r) => r.serverUsPerBlock)));
  const wsNote = cell.client === 'wirecat' && cell.windowsize > 1 ? ' (in.tftpd: 1)' : '';
  lines.push(
    `| ${cell.dir === 'get' ? 'download' : 'upload'} | ${cell.client} | ${cell.blksize} | ${cell.windowsize}${wsNote} | ${cellFig('wirecat')} | ${cellFig('hpa')} | ${fmt(ratio, 2)} | ${ratio === undefined ? '–' : ratio >= 1 ? 'yes' : 'no'} | ${floor ? cellFig('node') : '–'} | ${floor ? fmt(median(ratiosTo('node')), 2) : '–'} | ${cpu('wirecat')} / ${cpu('hpa')}${floor ? ` / ${cpu('node')}` : ''} | ${fmt(median(recs.map((r) => r.foreignCores)), 2)}${noisy(recs)} |`,
  );
}
const memRecs = raw.filter((r) => r.cell.startsWith('mem '));
if (memRecs.length) {
  lines.push(
    '',
    `Memory during ${CONCURRENT} concurrent curl transfers of a ${MEM_SIZE / 1_048_576} MiB file (from 127.0.0.2-${1 + CONCURRENT}), median of ${RUNS}; in.tftpd = its listener plus one fork per transfer, summed (PSS counts shared pages once)`,
    '',
    '| transfers | server | RSS at rest MiB | peak RSS MiB | peak PSS MiB | completed | seconds |',
    '|---|---|---|---|---|---|---|',
  );
  for (const cell of [...new Set(memRecs.map((r) => r.cell))]) {
    for (const who of ['wirecat', 'hpa']) {
      const rs = memRecs.filter((r) => r.cell === cell && r.who === who);
      const mib = (k) => fmt(median(rs.map((r) => r[k] / 1024)));
      lines.push(
        `| ${cell.slice(4)} | ${who === 'hpa' ? 'in.tftpd' : 'wirecat'} | ${mib('idleRssKb')} | ${mib('peakRssKb')} | ${mib('peakPssKb')} | ${rs.map((r) => r.done).join(', ')} | ${fmt(median(rs.map((r) => r.seconds)))} |`,
      );
    }
  }
}
lines.push(
  '',
  `wirecat ${header.commit}; tftpd-hpa ${header.hpa}; curl ${header.curl}; node ${process.version}`,
  `before: ${header.uptimeBefore}`,
  `after:  ${header.uptimeAfter}`,
);
const table = lines.join('\n');
writeFileSync(
  join(outDir, 'raw.jsonl'),
  `${[{ meta: header }, ...raw].map((r) => JSON.stringify(r)).join('\n')}\n`,
);
writeFileSync(join(outDir, 'summary.md'), `${table}\n`);
console.log(table);
console.error(`\nraw data: ${outDir}`);
process.exitCode = failures ? 2 : 0;
