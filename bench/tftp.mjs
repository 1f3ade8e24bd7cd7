// TFTP download rates on loopback: wirecat's server vs tftpd-hpa (in.tftpd) with the same
// clients (curl, tftp-hpa, wirecat tftp), one 64 MiB file in tmpfs, median of N runs, MB/s
// (10^6 B/s, wall time of the client process including its start-up). Needs root for
// `in.tftpd -s`. Usage: node bench/tftp.mjs [--runs 3] [--size-mib 64]
// Servers are started here and stopped by PID; nothing is left behind.

import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'size-mib': { type: 'string', default: '64' },
  },
});
const RUNS = Number(values.runs);
const SIZE = Number(values['size-mib']) * 1_048_576;
const CLI = new URL('../dist/cli/wirecat.js', import.meta.url).pathname;
const dir = `/dev/shm/wirecat-tftp-bench-${process.pid}`;
const root = join(dir, 'root');
mkdirSync(root, { recursive: true });
writeFileSync(join(root, 'f.bin'), randomBytes(SIZE));
const digest = createHash('sha256')
  .update(readFileSync(join(root, 'f.bin')))
  .digest('hex');

const WIRECAT_PORT = 17069;
const HPA_PORT = 17070;
const children = [
  spawn(process.execPath, [CLI, 'serve', `tftp=udp://127.0.0.1:${WIRECAT_PORT}`, '--root', root], {
    stdio: 'ignore',
  }),
  spawn('in.tftpd', ['-L', '-a', `127.0.0.1:${HPA_PORT}`, '-s', '-u', 'root', root], {
    stdio: 'ignore',
  }),
];
const stop = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', stop);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stop();
    process.exit(130);
  });
}
await new Promise((r) => setTimeout(r, 800));

const out = join(dir, 'out.bin');
const clients = {
  'curl 512': (port) => [
    'curl',
    ['-sS', '--tftp-blksize', '512', '-o', out, `tftp://127.0.0.1:${port}/f.bin`],
  ],
  'curl 1428': (port) => [
    'curl',
    ['-sS', '--tftp-blksize', '1428', '-o', out, `tftp://127.0.0.1:${port}/f.bin`],
  ],
  'curl 65464': (port) => [
    'curl',
    ['-sS', '--tftp-blksize', '65464', '-o', out, `tftp://127.0.0.1:${port}/f.bin`],
  ],
  'tftp-hpa 512': (port) => [
    'tftp',
    ['-m', 'binary', '127.0.0.1', String(port), '-c', 'get', 'f.bin', out],
  ],
  'wirecat 512 ws1': (port) => [
    process.execPath,
    [CLI, 'tftp', 'get', `127.0.0.1:${port}`, 'f.bin', out, '-b', '512', '-w', '1'],
  ],
  'wirecat 1428 ws8': (port) => [
    process.execPath,
    [CLI, 'tftp', 'get', `127.0.0.1:${port}`, 'f.bin', out, '-b', '1428', '-w', '8'],
  ],
  'wirecat 65464 ws1': (port) => [
    process.execPath,
    [CLI, 'tftp', 'get', `127.0.0.1:${port}`, 'f.bin', out, '-b', '65464', '-w', '1'],
  ],
  'wirecat 65464 ws4': (port) => [
    process.execPath,
    [CLI, 'tftp', 'get', `127.0.0.1:${port}`, 'f.bin', out, '-b', '65464', '-w', '4'],
  ],
};

function measure(port, make) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    rmSync(out, { force: true });
    const [cmd, args] = make(port);
    const t0 = performance.now();
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 300_000 });
    times.push(performance.now() - t0);
    const got = createHash('sha256').update(readFileSync(out)).digest('hex');
    if (got !== digest) throw new Error(`${cmd} ${args.join(' ')}: wrong bytes`);
  }
  times.sort((a, b) => a - b);
  return SIZE / 1e6 / (times[Math.floor(times.length / 2)] / 1000);
}

console.log(
  `| client | wirecat MB/s | in.tftpd MB/s |  (${SIZE / 1_048_576} MiB, median of ${RUNS})`,
);
console.log('|---|---|---|');
for (const [name, make] of Object.entries(clients)) {
  const w = measure(WIRECAT_PORT, make).toFixed(1);
  const h = measure(HPA_PORT, make).toFixed(1);
  console.log(`| ${name} | ${w} | ${h} |`);
}
stop();
