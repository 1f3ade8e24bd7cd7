// TFTP under packet loss, delay and reordering: through a lossy UDP proxy written here (always
// runs), and in a network namespace with `tc netem` where the kernel has it (skipped with the
// reason otherwise). Every transfer must finish with exactly the right bytes.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { tftpGet, tftpPut } from '../src/client/tftp.js';
import { CLI, portOf, startHost, tempDir, waitFor } from './helpers.js';

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A UDP proxy in front of a TFTP server that drops a share of the datagrams each way and
 * delays the rest by a random 0..maxDelayMs (so some arrive out of order). It keeps TFTP's TID
 * rule visible: each server transfer port gets its own client-facing port.
 */
class LossyProxy {
  port = 0;
  dropped = 0;
  forwarded = 0;
  private readonly listener = dgram.createSocket('udp4');
  private readonly sockets: dgram.Socket[] = [this.listener];
  private readonly sessions = new Map<string, dgram.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly random: () => number;

  constructor(
    private readonly target: number,
    private readonly loss: number,
    private readonly maxDelayMs: number,
    seed: number,
  ) {
    this.random = prng(seed);
  }

  async start(): Promise<void> {
    await bind(this.listener);
    this.port = this.listener.address().port;
    this.listener.on('message', (msg, from) => {
      this.forward(this.upstreamFor(from), msg, this.target);
    });
  }

  /** One upstream socket per client TID; replies from each server port get a facing socket. */
  private upstreamFor(client: dgram.RemoteInfo): dgram.Socket {
    const key = `${client.address}:${client.port}`;
    let upstream = this.sessions.get(key);
    if (upstream) return upstream;
    upstream = dgram.createSocket('udp4');
    this.sockets.push(upstream);
    this.sessions.set(key, upstream);
    const facing = new Map<number, dgram.Socket>();
    const up = upstream;
    bind(up);
    up.on('message', (msg, server) => {
      let face = facing.get(server.port);
      if (!face) {
        const f = dgram.createSocket('udp4');
        face = f;
        this.sockets.push(f);
        facing.set(server.port, f);
        bind(f);
        f.on('message', (back) => this.forward(up, back, server.port));
      }
      const f = face;
      this.forward(f, msg, client.port);
    });
    return upstream;
  }

  private forward(socket: dgram.Socket, msg: Buffer, port: number): void {
    if (this.random() < this.loss) {
      this.dropped++;
      return;
    }
    this.forwarded++;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        socket.send(msg, port, '127.0.0.1');
      },
      Math.floor(this.random() * (this.maxDelayMs + 1)),
    );
    this.timers.add(timer);
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    for (const s of this.sockets) {
      try {
        s.close();
      } catch {}
    }
  }
}

function bind(socket: dgram.Socket): Promise<void> {
  socket.on('error', () => {});
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
}

// Short timeouts keep the test quick; many retries (3 s of silence) keep it from failing
// when the whole suite loads both cores and the event loop stalls for a second.
/** Wait until the server has renamed the finished upload into place with exactly `data`. */
function uploadArrived(path: string, data: Buffer): Promise<boolean> {
  return waitFor(() => {
    try {
      return readFileSync(path).equals(data);
    } catch {
      return false;
    }
  }, 'the upload to be renamed into place');
}

const TIMERS = { timeoutMs: 80, retries: 40 };

async function lossySetup(t: TestContext, loss: number, seed: number) {
  const root = tempDir(t);
  const host = await startHost(t, ['tftp=udp://127.0.0.1:0'], {
    root,
    tftp: { allowWrite: true, ...TIMERS },
    limits: { drainTimeoutMs: 200 },
  });
  const proxy = new LossyProxy(portOf(host, 'tftp', 'udp'), loss, 4, seed);
  await proxy.start();
  t.after(() => proxy.close());
  return { root, proxy, server: `127.0.0.1:${proxy.port}` };
}

test('lossy proxy, 10% loss each way + reordering: lock-step get and put arrive intact', async (t) => {
  const { root, proxy, server } = await lossySetup(t, 0.1, 1);
  const data = randomBytes(80_000);
  writeFileSync(join(root, 'f.bin'), data);
  const local = tempDir(t);
  const got = await tftpGet(server, 'f.bin', join(local, 'f.bin'), {
    blksize: 512,
    windowsize: 1,
    ...TIMERS,
  });
  assert.deepEqual(readFileSync(join(local, 'f.bin')), data);
  const put = await tftpPut(server, join(local, 'f.bin'), 'up.bin', {
    blksize: 512,
    windowsize: 1,
    ...TIMERS,
  });
  await uploadArrived(join(root, 'up.bin'), data);
  assert.ok(proxy.dropped > 20, `the proxy dropped ${proxy.dropped} datagrams`);
  assert.ok(got.retransmits + put.retransmits > 0);
});

test('lossy proxy, 10% loss each way + reordering: windowed get and put arrive intact', async (t) => {
  const { root, proxy, server } = await lossySetup(t, 0.1, 2);
  const data = randomBytes(400_000);
  writeFileSync(join(root, 'f.bin'), data);
  const local = tempDir(t);
  const got = await tftpGet(server, 'f.bin', join(local, 'f.bin'), {
    blksize: 1024,
    windowsize: 8,
    ...TIMERS,
  });
  assert.equal(got.windowsize, 8);
  assert.deepEqual(readFileSync(join(local, 'f.bin')), data);
  await tftpPut(server, join(local, 'f.bin'), 'up.bin', {
    blksize: 1428,
    windowsize: 4,
    ...TIMERS,
  });
  await uploadArrived(join(root, 'up.bin'), data);
  assert.ok(proxy.dropped > 20, `the proxy dropped ${proxy.dropped} datagrams`);
});

/** Why netem cannot run here, or undefined when it can (root, ip, tc, the netem qdisc). */
function netemUnavailable(ns: string): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    execFileSync('ip', ['netns', 'add', ns], { stdio: 'pipe' });
  } catch (err) {
    return `cannot create a network namespace: ${(err as { stderr?: Buffer }).stderr?.toString().trim() || err}`;
  }
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'pipe' });
    execFileSync(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'tc',
        'qdisc',
        'add',
        'dev',
        'lo',
        'root',
        'netem',
        'loss',
        '3%',
        'delay',
        '2ms',
        '1ms',
      ],
      { stdio: 'pipe' },
    );
    return undefined;
  } catch (err) {
    const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || String(err);
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    return `tc netem is not available (${why}; the kernel lacks CONFIG_NET_SCH_NETEM); the lossy proxy tests cover loss instead`;
  }
}

test('netns + tc netem (3% loss, 2±1 ms delay): the CLI gets and puts intact', async (t) => {
  const ns = `wctftp${process.pid}`;
  const why = netemUnavailable(ns);
  if (why) {
    t.skip(why);
    return;
  }
  t.after(() => execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }));
  const root = tempDir(t);
  const local = tempDir(t);
  const data = randomBytes(200_000);
  writeFileSync(join(root, 'f.bin'), data);
  const port = '10169';
  const server = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      CLI,
      'serve',
      `tftp=udp://127.0.0.1:${port}`,
      '--root',
      root,
      '--allow-write',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
  });
  t.after(() => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  });
  await waitFor(() => out.includes('udp://127.0.0.1'), 'the server in the namespace', 10_000);
  const cli = (args: string[]) =>
    execFileSync('ip', ['netns', 'exec', ns, process.execPath, CLI, 'tftp', ...args], {
      timeout: 120_000,
    });
  cli([
    'get',
    `127.0.0.1:${port}`,
    'f.bin',
    join(local, 'f.bin'),
    '-b',
    '1428',
    '-w',
    '8',
    '--retries',
    '20',
  ]);
  assert.deepEqual(readFileSync(join(local, 'f.bin')), data);
  cli(['put', `127.0.0.1:${port}`, join(local, 'f.bin'), 'up.bin', '-b', '512', '--retries', '20']);
  await waitFor(() => {
    try {
      return readFileSync(join(root, 'up.bin')).equals(data);
    } catch {
      return false;
    }
  }, 'the upload');
});
