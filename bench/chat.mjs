// Chat fan-out: messages per second the room delivers to 100 clients. The room runs in its
// own process (pinned to CPU 1 when taskset exists) from the built library (npm run build);
// 100 receivers and one sender run here. Flood control is lifted for the sender (it is a
// per-client limit a benchmark would only measure itself); every other limit is the default.
// A second scenario adds one client that never reads: the others must not slow down.
//
// Usage: node bench/chat.mjs [--clients 100] [--messages 20000] [--size 64] [--reps 3]

import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '100' },
    messages: { type: 'string', default: '20000' },
    size: { type: 'string', default: '64' },
    reps: { type: 'string', default: '3' },
  },
});
const CLIENTS = Number(values.clients);
const MESSAGES = Number(values.messages);
const SIZE = Number(values.size);
const REPS = Number(values.reps);
/** Any one run must finish within this long. */
const RUN_TIMEOUT_MS = 120_000;

const lib = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const serverScript = `
import { serve } from ${JSON.stringify(lib)};
const host = await serve(['chat=tcp://127.0.0.1:0'], { chat: { linesPerSecond: 1e9, burst: 1e9 } });
console.log(host.listeners[0].port);
process.on('SIGTERM', () => host.close(0).then(() => process.exit(0)));
`;

function startRoom() {
  const pin = spawnSync('sh', ['-c', 'command -v taskset']).status === 0;
  const argv = [process.execPath, '--input-type=module', '-e', serverScript];
  const child = pin
    ? spawn('taskset', ['-c', '1', ...argv], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve({ child, port: Number(String(d).trim()) }));
    child.once('exit', (code) => reject(new Error(`the room exited with ${code}`)));
  });
}

/** A client that joins as `nick` and counts the message lines it receives afterwards. */
function join(port, nick, { read = true } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const client = { socket, lines: 0, joined: false, onLine: undefined };
    let text = '';
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      if (!client.joined) {
        text += chunk;
        if (text.includes('choose a nickname')) socket.write(`${nick}\n`);
        if (text.includes(`hello ${nick}`)) {
          client.joined = true;
          if (!read) socket.pause();
          resolve(client);
        }
        return;
      }
      let at = chunk.indexOf(10);
      while (at !== -1) {
        client.lines++;
        at = chunk.indexOf(10, at + 1);
      }
      client.onLine?.();
    });
  });
}

async function run(port, lazy) {
  const receivers = [];
  for (let i = 0; i < CLIENTS; i++) receivers.push(await join(port, `r${i}`));
  const idle = lazy ? await join(port, 'lazy', { read: false }) : undefined;
  const sender = await join(port, 'sender');
  await new Promise((r) => setTimeout(r, 200)); // join notices delivered
  for (const r of receivers) r.lines = 0;
  const payload = `${'x'.repeat(SIZE - 1)}\n`;
  const started = performance.now();
  const done = Promise.all(
    receivers.map(
      (r) =>
        new Promise((resolve) => {
          r.onLine = () => {
            if (r.lines >= MESSAGES) resolve();
          };
        }),
    ),
  );
  for (let sent = 0; sent < MESSAGES; sent += 1000) {
    const batch = payload.repeat(Math.min(1000, MESSAGES - sent));
    if (!sender.socket.write(batch)) await new Promise((r) => sender.socket.once('drain', r));
  }
  let timer;
  await Promise.race([
    done,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('run timed out')), RUN_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  const extra = receivers.reduce((n, r) => n + (r.lines - MESSAGES), 0);
  for (const c of [...receivers, sender, idle]) c?.socket.destroy();
  return { seconds, delivered: (MESSAGES * CLIENTS) / seconds, extra };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rows = [];
for (const lazy of [false, true]) {
  const rates = [];
  for (let rep = 0; rep < REPS; rep++) {
    const { child, port } = await startRoom();
    try {
      const r = await run(port, lazy);
      rates.push(r.delivered);
      if (r.extra !== 0) console.error(`note: ${r.extra} notice lines counted (lazy dropped)`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }
  rows.push({
    scenario: lazy ? `${CLIENTS} readers + 1 never reads` : `${CLIENTS} readers`,
    median: median(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
  });
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
console.log(
  `chat fan-out: ${MESSAGES} messages of ${SIZE} bytes from one sender, ${REPS} reps (median, min..max)`,
);
console.log('| scenario | deliveries/s | messages/s into the room |');
console.log('|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.scenario} | ${fmt(r.median)} (${fmt(r.min)}..${fmt(r.max)}) | ${fmt(r.median / CLIENTS)} |`,
  );
