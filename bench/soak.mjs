// npm run soak [-- --minutes N]: a long mixed load against one `wirecat serve` running every
// service over TCP and UDP (echo, discard, chargen, qotd, daytime, time, reverse, ack, stamp,
// chat, files, http, tftp), driven by the shared load generator (bench/loadgen) plus small
// in-process clients for chat, Gopher, HTTP, TFTP and the other UDP services. Samples the
// server's RSS and open descriptors every few seconds into bench/soak/soak.csv, plots them in
// bench/soak/soak.svg, and passes only when no unexpected error happened and both stayed flat
// after the warm-up (tolerances below). Not part of `npm test`.

import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = join(HERE, '..');

/** After this share of the run (at least WARMUP_MIN_S), RSS and fds must stay flat. */
const WARMUP_SHARE = 0.2;
const WARMUP_MIN_S = 30;
/** Flat: the median of the last third of the samples after warm-up is at most this much above the first third's. */
const RSS_TOLERANCE = { ratio: 0.1, mib: 8 };
const FD_TOLERANCE = { ratio: 0.2, count: 16 };
/** Server error codes the load itself provokes: loadgen closing busy connections at the end of each round. */
const PROVOKED = new Set(['ECONNRESET', 'EPIPE']);
/** Each loadgen round lasts this long (then the next starts), so short-lived processes churn too. */
const ROUND_S = 30;

const { values: opts } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'sample-secs': { type: 'string', default: '5' },
    out: { type: 'string', default: join(HERE, 'soak') },
    help: { type: 'boolean', short: 'h' },
  },
});
if (opts.help) {
  console.log(`Usage: npm run soak [-- --minutes N] [--sample-secs S] [--out DIR]

Runs every wirecat service under mixed TCP/UDP load for N minutes (default 10), samples the
server's RSS and open file descriptors every S seconds (default 5), writes DIR/soak.csv and
DIR/soak.svg (default bench/soak/), and exits 0 only when there were no unexpected errors and
RSS and fds stayed flat after the warm-up (the first ${WARMUP_SHARE * 100}%, at least ${WARMUP_MIN_S} s):
median of the last third within +${RSS_TOLERANCE.ratio * 100}% + ${RSS_TOLERANCE.mib} MiB (RSS) and
+${FD_TOLERANCE.ratio * 100}% + ${FD_TOLERANCE.count} (fds) of the first third's.

Example: npm run soak -- --minutes 3`);
  process.exit(0);
}
const minutes = Number(opts.minutes);
const sampleMs = Number(opts['sample-secs']) * 1000;
if (!(minutes > 0) || !(sampleMs > 0)) {
  console.error('soak: --minutes and --sample-secs must be positive numbers');
  process.exit(2);
}
const durationMs = minutes * 60_000;

// ---- the load generator and a private copy of the built CLI (others may rebuild dist/) ----
const loadgen = join(HERE, 'loadgen');
if (!existsSync(loadgen)) {
  execFileSync('cc', ['-O2', '-o', loadgen, '/work/shared/bench/loadgen.c', '-lm'], {
    stdio: 'inherit',
  });
}
if (!existsSync(join(REPO, 'dist/cli/wirecat.js'))) {
  console.error('soak: dist/cli/wirecat.js is missing; run npm run build first');
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), 'wirecat-soak-'));
cpSync(join(REPO, 'dist'), join(work, 'dist'), { recursive: true });
const root = join(work, 'root');
mkdirSync(root);
writeFileSync(join(root, 'small.txt'), 'a small file\n'.repeat(100));
writeFileSync(join(root, 'big.bin'), Buffer.alloc(2 * 1024 * 1024, 0x62));
const lib = await import(join(work, 'dist/index.js'));

// ---- the server ----
const UDP = ['echo', 'discard', 'chargen', 'qotd', 'daytime', 'time', 'reverse', 'ack', 'stamp'];
const specs = [
  ...UDP.flatMap((s) => [`${s}=tcp://127.0.0.1:0`, `${s}=udp://127.0.0.1:0`]),
  'chat=tcp://127.0.0.1:0',
  'files=tcp://127.0.0.1:0',
  'http=tcp://127.0.0.1:0',
  'tftp=udp://127.0.0.1:0',
];
const server = spawn(
  process.execPath,
  [
    join(work, 'dist/cli/wirecat.js'),
    'serve',
    ...specs,
    '--root',
    root,
    '--max-per-source',
    '5000',
    '--dashboard=127.0.0.1:0',
  ],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
let table = '';
let serverErr = '';
server.stdout.on('data', (d) => {
  table += d;
});
server.stderr.on('data', (d) => {
  serverErr += d;
});
const stopServer = () => {
  if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
};
process.on('exit', () => {
  stopServer();
  rmSync(work, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
for (let i = 0; i < 300 && !/Ctrl-C stops/.test(table); i++) await sleep(50);
if (!/Ctrl-C stops/.test(table)) {
  console.error(`soak: wirecat serve did not start:\n${serverErr}`);
  process.exit(1);
}
const port = (service, transport = 'tcp') => {
  const m = new RegExp(`^${service}\\s+${transport}\\s+\\S+:(\\d+)\\s*$`, 'm').exec(table);
  if (!m) throw new Error(`no ${transport} port for ${service}`);
  return Number(m[1]);
};
const metricsUrl = `${/dashboard at (http:\/\/[^/]+)\//.exec(serverErr)?.[1]}/metrics`;

// ---- load: loadgen rounds ----
const errors = [];
let stopping = false;
const runs = { loadgen: 0, ops: 0 };

function loadgenRound(name, args) {
  return new Promise((resolve) => {
    const child = spawn(loadgen, [...args, '--secs', String(ROUND_S), '--label', name], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => {
      runs.loadgen++;
      const json = out.split('\n').find((l) => l.startsWith('{'));
      if (json) runs.ops += JSON.parse(json).ops ?? 0;
      if (code !== 0)
        errors.push(
          `loadgen ${name} exited ${code}: ${out.trim().split('\n').slice(-2).join(' | ')}`,
        );
      resolve();
    });
  });
}

async function loadgenLoop(name, args) {
  while (!stopping) await loadgenRound(name, args);
}

// ---- load: small clients for what loadgen does not speak ----
async function every(ms, name, fn) {
  while (!stopping) {
    try {
      await fn();
      runs.ops++;
    } catch (err) {
      errors.push(`${name}: ${err?.message ?? err}`);
      if (errors.length > 50) stopping = true;
    }
    await sleep(ms);
  }
}

function gopher(selector) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port: port('files'), host: '127.0.0.1' });
    let n = 0;
    s.setTimeout(10_000, () => s.destroy(new Error('gopher timeout')));
    s.on('data', (d) => {
      n += d.length;
    });
    s.on('end', () => resolve(n));
    s.on('error', reject);
    s.end(`${selector}\r\n`);
  });
}

function udpAsk(service) {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP reply from ${service}`));
    }, 3000);
    s.on('message', () => {
      clearTimeout(timer);
      s.close();
      resolve();
    });
    s.send('soak\n', port(service, 'udp'), '127.0.0.1');
  });
}

async function chatter() {
  const s = net.connect({ port: port('chat'), host: '127.0.0.1' });
  let text = '';
  s.setEncoding('utf8');
  s.on('data', (d) => {
    text = (text + d).slice(-4096);
  });
  s.on('error', (err) => errors.push(`chat: ${err.message}`));
  await new Promise((r) => s.once('connect', r));
  s.write(`soak${process.pid}\n`);
  for (let i = 0; !stopping; i++) {
    s.write(`message ${i}\n`);
    runs.ops++;
    await sleep(500);
  }
  s.end('/quit\n');
  if (!text.includes('hello soak')) errors.push('chat: never joined');
}

function sample(started) {
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  return {
    seconds: Math.round((Date.now() - started) / 100) / 10,
    rssMiB: Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024,
    fds: readdirSync(`/proc/${server.pid}/fd`).length,
    load1: loadavg()[0],
    ops: runs.ops,
  };
}

async function serverErrors() {
  const text = await (await fetch(metricsUrl)).text();
  const counts = {};
  for (const line of text.split('\n')) {
    const m = /^wirecat_errors_total\{.*code="([^"]+)".*\} (\d+)/.exec(line);
    if (m) counts[m[1]] = (counts[m[1]] ?? 0) + Number(m[2]);
  }
  return counts;
}

// ---- run ----
const started = Date.now();
console.log(
  `soak: ${minutes} min against wirecat serve (pid ${server.pid}), sampling every ${sampleMs / 1000} s; load average now ${loadavg()[0].toFixed(1)} on ${readdirSync('/sys/devices/system/cpu').filter((n) => /^cpu\d+$/.test(n)).length} CPUs`,
);
const tasks = [
  loadgenLoop('echo', [
    '--mode',
    'echo',
    '--port',
    String(port('echo')),
    '--conns',
    '16',
    '--size',
    '256',
  ]),
  loadgenLoop('udp-echo', [
    '--mode',
    'udp',
    '--port',
    String(port('echo', 'udp')),
    '--conns',
    '8',
    '--size',
    '64',
  ]),
  loadgenLoop('discard', [
    '--mode',
    'discard',
    '--port',
    String(port('discard')),
    '--conns',
    '2',
    '--wsize',
    '16384',
  ]),
  loadgenLoop('chargen', ['--mode', 'sink', '--port', String(port('chargen')), '--conns', '2']),
  loadgenLoop('daytime', [
    '--mode',
    'connrate',
    '--port',
    String(port('daytime')),
    '--conns',
    '4',
    '--expect-min',
    '26',
  ]),
  loadgenLoop('qotd', ['--mode', 'connrate', '--port', String(port('qotd')), '--conns', '2']),
  loadgenLoop('time', [
    '--mode',
    'connrate',
    '--port',
    String(port('time')),
    '--conns',
    '2',
    '--expect-len',
    '4',
  ]),
  loadgenLoop('reverse', [
    '--mode',
    'connrate',
    '--port',
    String(port('reverse')),
    '--conns',
    '4',
    '--payload',
    'hello soak\\n',
    '--shut-wr',
    '--expect-len',
    '11',
  ]),
  loadgenLoop('ack', [
    '--mode',
    'connrate',
    '--port',
    String(port('ack')),
    '--conns',
    '2',
    '--payload',
    'x\\n',
    '--shut-wr',
  ]),
  loadgenLoop('stamp', [
    '--mode',
    'connrate',
    '--port',
    String(port('stamp')),
    '--conns',
    '2',
    '--payload',
    'x\\n',
    '--shut-wr',
  ]),
  every(50, 'gopher', () => gopher('/small.txt')),
  every(1000, 'gopher-big', () => gopher('/big.bin')),
  every(50, 'http', async () => {
    const res = await fetch(`http://127.0.0.1:${port('http')}/small.txt`);
    if (res.status !== 200) throw new Error(`http ${res.status}`);
    await res.arrayBuffer();
  }),
  every(2000, 'tftp', async () => {
    const sink = new (await import('node:stream')).Writable({ write: (_c, _e, cb) => cb() });
    await lib.tftpFetch(`127.0.0.1:${port('tftp', 'udp')}`, 'big.bin', sink);
  }),
  ...['chargen', 'qotd', 'daytime', 'time', 'reverse', 'ack', 'stamp'].map((s) =>
    every(100, `udp-${s}`, () => udpAsk(s)),
  ),
  chatter(),
];
const samples = [];
while (Date.now() - started < durationMs && !stopping) {
  await sleep(Math.min(sampleMs, durationMs - (Date.now() - started)));
  if (server.exitCode !== null || server.signalCode !== null) {
    errors.push(
      `wirecat serve died: ${server.exitCode ?? server.signalCode}: ${serverErr.slice(-500)}`,
    );
    break;
  }
  const s = sample(started);
  samples.push(s);
  process.stdout.write(
    `\r${s.seconds.toFixed(0)} s  RSS ${s.rssMiB.toFixed(1)} MiB  fds ${s.fds}  ops ${s.ops}  load ${s.load1.toFixed(1)}   `,
  );
}
stopping = true;
process.stdout.write('\n');
const codes = await serverErrors().catch((err) => ({ metrics: String(err) }));
await Promise.race([Promise.all(tasks), sleep((ROUND_S + 10) * 1000)]);
server.kill('SIGTERM');
const exit = await new Promise((resolve) =>
  server.once('exit', (code, signal) => resolve(code ?? signal)),
);
if (exit !== 0) errors.push(`wirecat serve exited ${exit} on SIGTERM`);

// ---- judge ----
const warmupS = Math.max(WARMUP_MIN_S, (WARMUP_SHARE * durationMs) / 1000);
const steady = samples.filter((s) => s.seconds >= warmupS);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function flat(key, tol) {
  if (steady.length < 6) return { ok: false, why: `only ${steady.length} samples after warm-up` };
  const third = Math.floor(steady.length / 3);
  const first = median(steady.slice(0, third).map((s) => s[key]));
  const last = median(steady.slice(-third).map((s) => s[key]));
  const allowed = first * (1 + tol.ratio) + (tol.mib ?? tol.count);
  return { ok: last <= allowed, first, last, allowed, max: Math.max(...steady.map((s) => s[key])) };
}
const rss = flat('rssMiB', RSS_TOLERANCE);
const fds = flat('fds', FD_TOLERANCE);
const unexpected = Object.entries(codes).filter(([code]) => !PROVOKED.has(code));
const pass = errors.length === 0 && unexpected.length === 0 && rss.ok && fds.ok;

// ---- write the CSV and the SVG ----
mkdirSync(opts.out, { recursive: true });
const csv = [
  'seconds,rss_mib,fds,load1,ops',
  ...samples.map(
    (s) => `${s.seconds},${s.rssMiB.toFixed(2)},${s.fds},${s.load1.toFixed(2)},${s.ops}`,
  ),
];
writeFileSync(join(opts.out, 'soak.csv'), `${csv.join('\n')}\n`);
writeFileSync(join(opts.out, 'soak.svg'), plot(samples, warmupS, pass));

console.log(
  `soak: ${samples.length} samples, ${runs.ops} operations (${runs.loadgen} loadgen rounds), load average ${loadavg()[0].toFixed(1)}`,
);
console.log(
  `  RSS after warm-up (${warmupS} s): first third median ${rss.first?.toFixed(1)} MiB, last third ${rss.last?.toFixed(1)} MiB (allowed ${rss.allowed?.toFixed(1)}), max ${rss.max?.toFixed(1)}: ${rss.ok ? 'flat' : `NOT FLAT ${rss.why ?? ''}`}`,
);
console.log(
  `  fds after warm-up: first third median ${fds.first}, last third ${fds.last} (allowed ${fds.allowed?.toFixed(0)}), max ${fds.max}: ${fds.ok ? 'flat' : `NOT FLAT ${fds.why ?? ''}`}`,
);
console.log(
  `  server errors by code: ${JSON.stringify(codes)} (provoked by the load: ${[...PROVOKED].join(', ')})`,
);
for (const e of errors.slice(0, 20)) console.log(`  error: ${e}`);
console.log(
  `soak: ${pass ? 'PASS' : 'FAIL'}; samples in ${join(opts.out, 'soak.csv')}, plot in ${join(opts.out, 'soak.svg')}`,
);
process.exit(pass ? 0 : 1);

/** RSS and fds over time as a hand-written SVG: two polylines, their axes, the warm-up line. */
function plot(points, warmup, ok) {
  const W = 760;
  const H = 300;
  const pad = { l: 56, r: 56, t: 34, b: 40 };
  const maxT = Math.max(1, ...points.map((p) => p.seconds));
  const maxRss = Math.max(1, ...points.map((p) => p.rssMiB)) * 1.15;
  const maxFds = Math.max(1, ...points.map((p) => p.fds)) * 1.15;
  const x = (t) => pad.l + (t / maxT) * (W - pad.l - pad.r);
  const y = (v, max) => H - pad.b - (v / max) * (H - pad.t - pad.b);
  const line = (key, max) =>
    points.map((p) => `${x(p.seconds).toFixed(1)},${y(p[key], max).toFixed(1)}`).join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">
<title>wirecat soak: server RSS and open file descriptors over ${(maxT / 60).toFixed(1)} min (${ok ? 'pass' : 'fail'})</title>
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${pad.l}" y="18" font-size="13">wirecat soak, ${(maxT / 60).toFixed(1)} min: server RSS (MiB, blue, left) and open fds (orange, right) — ${ok ? 'PASS' : 'FAIL'}</text>
<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#555"/>
<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#1f77b4"/>
<line x1="${W - pad.r}" y1="${pad.t}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#ff7f0e"/>
${ticks
  .map(
    (
      f,
    ) => `<text x="${x(f * maxT).toFixed(1)}" y="${H - pad.b + 16}" text-anchor="middle">${Math.round(f * maxT)} s</text>
<text x="${pad.l - 6}" y="${(y(f * maxRss, maxRss) + 4).toFixed(1)}" text-anchor="end" fill="#1f77b4">${(f * maxRss).toFixed(0)}</text>
<text x="${W - pad.r + 6}" y="${(y(f * maxFds, maxFds) + 4).toFixed(1)}" fill="#ff7f0e">${(f * maxFds).toFixed(0)}</text>`,
  )
  .join('\n')}
<line x1="${x(warmup).toFixed(1)}" y1="${pad.t}" x2="${x(warmup).toFixed(1)}" y2="${H - pad.b}" stroke="#999" stroke-dasharray="4 3"/>
<text x="${(x(warmup) + 4).toFixed(1)}" y="${pad.t + 12}" fill="#666">end of warm-up</text>
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${line('rssMiB', maxRss)}"/>
<polyline fill="none" stroke="#ff7f0e" stroke-width="2" points="${line('fds', maxFds)}"/>
<text x="${W / 2}" y="${H - 8}" text-anchor="middle" fill="#444">seconds since start</text>
</svg>
`;
}
