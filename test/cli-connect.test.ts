// `wirecat connect` as a child process against real servers: binary-safe stdin/stdout,
// half-close, the HOST PORT and unix forms, -v, and the exit code for each outcome.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { CLI, portOf, runCli, spawnCli, startHost, tempDir, waitFor } from './helpers.js';

/** A plain TCP server on 127.0.0.1:0 running `onConnection`; closed when the test ends. */
async function rawServer(t: TestContext, onConnection: (socket: net.Socket) => void) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

/** A port on which nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

test('connect: stdin to echo and back, binary-safe (all 256 byte values), exit 0', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const input = Buffer.concat(Array(2000).fill(all)); // 512 KB, past every pipe buffer
  const r = await runCli(['connect', `127.0.0.1:${portOf(host, 'echo')}`], { input });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.length, input.length);
  assert.ok(r.stdout.equals(input), 'echo came back altered');
  assert.equal(r.stderr, '');
});

test('connect -v: a summary line; HOST PORT form over IPv4 and IPv6', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0', 'echo=tcp://[::1]:0']);
  const [v4, v6] = host.listeners.map((l) => l.port as number);
  const r = await runCli(['connect', '127.0.0.1', String(v4), '-v'], { input: 'twelve bytes' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'twelve bytes');
  assert.match(
    r.stderr,
    new RegExp(
      `^wirecat connect: tcp://127\\.0\\.0\\.1:${v4}: sent 12 B, received 12 B, we closed first\\b.*\\d+ ms.*\\n$`,
    ),
  );
  const six = await runCli(['connect', '::1', String(v6), '-v', '--json'], { input: 'v6' });
  assert.equal(six.code, 0, six.stderr);
  assert.equal(six.stdout.toString(), 'v6');
  const summary = JSON.parse(six.stderr);
  assert.equal(summary.event, 'summary');
  assert.equal(summary.endpoint, `tcp://[::1]:${v6}`);
  assert.equal(summary.sent, 2);
  assert.equal(summary.received, 2);
  assert.equal(summary.closedFirstBy, 'we');
});

test('connect to a unix socket', async (t) => {
  const path = join(tempDir(t), 'reverse.sock');
  await startHost(t, [`reverse=unix:${path}`]);
  const r = await runCli(['connect', `unix:${path}`], { input: 'hello\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'olleh\n');
});

test('connect exit codes: 3 refused, 4 idle timeout, 5 reset, 2 usage', async (t) => {
  const port = await closedPort();
  const refused = await runCli(['connect', `127.0.0.1:${port}`]);
  assert.equal(refused.code, 3);
  assert.match(refused.stderr, /connection refused by tcp:\/\/127\.0\.0\.1:\d+/);

  // A server that accepts and never says anything nor closes.
  const silent = await rawServer(t, () => {});
  const started = Date.now();
  const idle = await runCli(['connect', `127.0.0.1:${silent}`, '--idle-timeout', '0.3s']);
  assert.equal(idle.code, 4, idle.stderr);
  assert.match(idle.stderr, /idle timeout/);
  assert.ok(Date.now() - started >= 300);

  const resetting = await rawServer(t, (socket) => socket.resetAndDestroy());
  const reset = await runCli(['connect', `127.0.0.1:${resetting}`], { input: 'hi' });
  assert.equal(reset.code, 5, reset.stderr);
  assert.match(reset.stderr, /reset/);

  for (const args of [
    ['connect'],
    ['connect', 'a', 'b', 'c'],
    ['connect', 'udp://127.0.0.1:7'],
    ['connect', '127.0.0.1:99999'],
    ['connect', '127.0.0.1:7', '--nope'],
  ]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^wirecat connect: /);
  }
});

test('connect: the server closes first (daytime) while stdin stays open: exit 0 at once', async (t) => {
  const host = await startHost(t, ['daytime=tcp://127.0.0.1:0']);
  const child = spawnCli(t, ['connect', `127.0.0.1:${portOf(host, 'daytime')}`, '-v']);
  const started = Date.now();
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, child.errors());
  assert.ok(Date.now() - started < 3000);
  assert.match(child.output(), /\d\d:\d\d:\d\d \d{4}\r\n$/);
  assert.match(child.errors(), /server closed first/);
});

test('connect to chargen | head -c 100 exits cleanly', async (t) => {
  const host = await startHost(t, ['chargen=tcp://127.0.0.1:0']);
  const port = portOf(host, 'chargen');
  const script = `"${process.execPath}" "${CLI}" connect 127.0.0.1:${port} < /dev/null | head -c 100; echo "exit=\${PIPESTATUS[0]}" >&2`;
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>(
    (resolve, reject) =>
      execFile('bash', ['-c', script], { timeout: 10_000 }, (err, stdout, stderr) =>
        err ? reject(err) : resolve({ stdout, stderr }),
      ),
  );
  assert.equal(stdout.length, 100);
  const firstLine = Array.from({ length: 72 }, (_, i) => String.fromCharCode(32 + i)).join('');
  assert.equal(stdout.slice(0, 74), `${firstLine}\r\n`);
  assert.equal(stderr.trim(), 'exit=0');
  await waitFor(() => host.stats.connectionsOpen === 0, 'chargen to see the client go');
});
