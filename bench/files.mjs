// Files service benchmark: throughput of one large transfer (1 GiB by default) from
// `wirecat serve files` (Gopher) and `wirecat serve http`, beside a plain socat file server
// and python3's http.server, fetched by curl and by `wirecat get`, body to /dev/null.
// Server on CPU 1, client on CPU 0 (taskset), reps interleaved, median reported, plus the
// server's peak RSS (VmHWM). Run: `npm run build && node bench/files.mjs [--size 1G] [--reps 3]`.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist/cli/wirecat.js');
const SERVER_CPU = '1';
const CLIENT_CPU = '0';
/** One transfer may take this long before the run is called failed. */
const TRANSFER_TIMEOUT_MS = 120_000;

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1G' },
    reps: { type: 'string', default: '3' },
    sparse: { type: 'boolean', default: false },
  },
});
const SIZE =
  Number.parseInt(values.size, 10) *
  { G: 1024 ** 3, M: 1024 ** 2, K: 1024 }[values.size.slice(-1).toUpperCase()];
const REPS = Number(values.reps);

function freePort() {
  return new Promise((resolvePort) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolvePort(port));
    });
  });
}

async function waitListening(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => {
      const c = net.connect({ port, host: '127.0.0.1' }, () => {
        c.destroy();
        r(true);
      });
      c.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

function peakRss(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The file: real bytes (a repeating pseudo-random 1 MiB block) unless --sparse. */
function makeFile(dir) {
  const path = join(dir, 'big.bin');
  const fd = openSync(path, 'w');
  if (values.sparse) {
    closeSync(fd);
    spawnSync('truncate', ['-s', String(SIZE), path]);
    return path;
  }
  const block = Buffer.alloc(1024 * 1024);
  let x = 12345;
  for (let i = 0; i < block.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    block[i] = x >>> 24;
  }
  for (let written = 0; written < SIZE; written += block.length)
    writeSync(fd, block, 0, Math.min(block.length, SIZE - written));
  closeSync(fd);
  return path;
}

const SERVERS = {
  'wirecat files': (port, dir) => [
    'node',
    CLI,
    'serve',
    `files=tcp://127.0.0.1:${port}`,
    '--root',
    dir,
  ],
  'wirecat http': (port, dir) => [
    'node',
    CLI,
    'serve',
    `http=tcp://127.0.0.1:${port}`,
    '--root',
    dir,
  ],
  'socat file': (port, _dir, file) => [
    'socat',
    '-U',
    `TCP-LISTEN:${port},reuseaddr,fork,bind=127.0.0.1`,
    `OPEN:${file},rdonly`,
  ],
  'python http.server': (port, dir) => [
    'python3',
    '-m',
    'http.server',
    String(port),
    '--bind',
    '127.0.0.1',
    '--directory',
    dir,
  ],
};

const CASES = [
  { server: 'wirecat files', client: 'curl', url: (p) => `gopher://127.0.0.1:${p}/9/big.bin` },
  {
    server: 'wirecat files',
    client: 'wirecat get',
    url: (p) => `gopher://127.0.0.1:${p}/9/big.bin`,
  },
  { server: 'socat file', client: 'curl', url: (p) => `gopher://127.0.0.1:${p}/9/big.bin` },
  { server: 'wirecat http', client: 'curl', url: (p) => `http://127.0.0.1:${p}/big.bin` },
  { server: 'wirecat http', client: 'wirecat get', url: (p) => `http://127.0.0.1:${p}/big.bin` },
  { server: 'python http.server', client: 'curl', url: (p) => `http://127.0.0.1:${p}/big.bin` },
];

function clientCommand(client, url) {
  return client === 'curl'
    ? ['curl', '-s', '-o', '/dev/null', '-w', '%{size_download}', url]
    : ['node', CLI, 'get', '-o', '/dev/null', '-v', url];
}

function transfer(argv) {
  const started = performance.now();
  const r = spawnSync('taskset', ['-c', CLIENT_CPU, ...argv], {
    encoding: 'utf8',
    timeout: TRANSFER_TIMEOUT_MS,
  });
  const ms = performance.now() - started;
  // curl prints the size on stdout; wirecat get -v says "N B body" on stderr.
  const bytes = Number(/^(\d+)$/.exec(r.stdout.trim())?.[1] ?? /(\d+) B body/.exec(r.stderr)?.[1]);
  if (r.status !== 0 || bytes !== SIZE)
    throw new Error(`${argv.join(' ')}: exit ${r.status}, ${bytes} bytes: ${r.stderr}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'wirecat-bench-files-'));
  try {
    const file = makeFile(dir);
    const servers = new Map();
    for (const name of new Set(CASES.map((c) => c.server))) {
      const port = await freePort();
      const [cmd, ...args] = SERVERS[name](port, dir, file);
      const child = spawn('taskset', ['-c', SERVER_CPU, cmd, ...args], { stdio: 'ignore' });
      servers.set(name, { port, child });
      await waitListening(port);
    }
    const times = CASES.map(() => []);
    for (let rep = 0; rep < REPS; rep++) {
      for (const [i, c] of CASES.entries()) {
        const { port } = servers.get(c.server);
        times[i].push(transfer(clientCommand(c.client, c.url(port))));
      }
    }
    const rows = CASES.map((c, i) => {
      const ms = median(times[i]);
      // taskset execs the server, so the child's pid is the server's (python: the interpreter).
      const rss = peakRss(servers.get(c.server).child.pid);
      return {
        server: c.server,
        client: c.client,
        'median s': (ms / 1000).toFixed(2),
        'MiB/s': (SIZE / 1048576 / (ms / 1000)).toFixed(0),
        'all runs s': times[i].map((t) => (t / 1000).toFixed(2)).join(' '),
        'server peak RSS MiB': rss ? (rss / 1048576).toFixed(0) : '?',
      };
    });
    console.log(
      `files benchmark: ${SIZE / 1048576} MiB ${values.sparse ? 'sparse ' : ''}file, ${REPS} reps, server CPU ${SERVER_CPU}, client CPU ${CLIENT_CPU}, node ${process.version}`,
    );
    console.table(rows);
    for (const { child } of servers.values()) child.kill('SIGTERM');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
