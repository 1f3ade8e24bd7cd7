// `wirecat serve` as a child process: the startup table, service specs, --config, --host,
// --trace, --json, usage errors and exit codes, --help, and graceful shutdown on signals.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { EXIT } from '../src/cli/exit-codes.js';
import { CLASSIC_SERVICES, type ServiceDefinition, services } from '../src/index.js';
import {
  assertCutOff,
  datagram,
  exchange,
  halfOpenClient,
  runCli,
  spawnCli,
  tempDir,
  waitFor,
} from './helpers.js';

interface Row {
  service: string;
  transport: string;
  address: string;
  port: number;
}

type Served = ReturnType<typeof spawnCli> & { rows: Row[] };

/** Start `wirecat serve ARGS`, wait for its table, parse it; SIGKILLed when the test ends. */
async function startServe(t: TestContext, args: string[]): Promise<Served> {
  const child = spawnCli(t, ['serve', ...args]);
  const done = () => child.exitCode !== null || child.signalCode !== null;
  await waitFor(
    () => done() || /Ctrl-C stops|"event":"listening"/.test(child.output()),
    'the startup table',
    10_000,
  );
  if (!args.includes('--json'))
    await waitFor(() => done() || /Ctrl-C/.test(child.output()), 'the table');
  assert.ok(!done(), `wirecat serve exited early: ${child.errors()}`);
  const rows = child
    .output()
    .split('\n')
    .map((line) => /^(\w+)\s+(tcp|udp|unix)\s+(\S+)/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({
      service: m[1],
      transport: m[2],
      address: m[3],
      port: Number(/:(\d+)$/.exec(m[3])?.[1] ?? 0),
    }));
  return Object.assign(child, { rows });
}

function rowOf(served: Served, service: string, transport = 'tcp'): Row {
  const row = served.rows.find((r) => r.service === service && r.transport === transport);
  assert.ok(row, `no ${transport} row for ${service} in:\n${served.output()}`);
  return row;
}

/** Resolve with the exit code/signal and how long after `since` the process ended. */
function exited(
  child: ChildProcess,
  since = Date.now(),
  timeoutMs = 10_000,
): Promise<{ code: number | null; signal: string | null; ms: number }> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode, ms: Date.now() - since });
      return;
    }
    const timer = setTimeout(() => reject(new Error('the process did not exit')), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - since });
    });
  });
}

/** True when nothing listens on 127.0.0.1:port over TCP nor UDP. */
async function portFree(port: number): Promise<boolean> {
  const tcp = await new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      server.close(() => resolve(true)),
    );
  });
  const udp = await new Promise<boolean>((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ port, address: '127.0.0.1', exclusive: true }, () =>
      socket.close(() => resolve(true)),
    );
  });
  return tcp && udp;
}

/** Stop a served child gracefully and check it exited 0. */
async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  const { code } = await exited(child);
  assert.equal(code, 0);
}

// The nine classic services at 10000 + their RFC port (wirecat's own ones at 10100-10102).
const DEFAULT_PORTS: Record<string, number> = {
  echo: 10007,
  discard: 10009,
  chargen: 10019,
  qotd: 10017,
  daytime: 10013,
  time: 10037,
  reverse: 10100,
  ack: 10101,
  stamp: 10102,
};

test('serve with no arguments: all nine services, tcp and udp, default ports, loopback', async (t) => {
  const busy = [];
  for (const port of Object.values(DEFAULT_PORTS)) if (!(await portFree(port))) busy.push(port);
  if (busy.length > 0) return t.skip(`default ports in use: ${busy.join(', ')}`);
  const served = await startServe(t, []);
  // The nine classic services (18 endpoints) plus whatever else is in the default set.
  const expected = CLASSIC_SERVICES.reduce((n, name) => {
    const s = services[name] as ServiceDefinition;
    return n + (s.tcp === false ? 0 : 1) + (s.udp ? 1 : 0);
  }, 0);
  assert.ok(expected >= 18);
  assert.match(served.output(), new RegExp(`serving ${expected} endpoints \\(loopback only`));
  assert.equal(served.rows.length, expected);
  for (const [service, port] of Object.entries(DEFAULT_PORTS)) {
    for (const transport of ['tcp', 'udp']) {
      assert.equal(rowOf(served, service, transport).address, `${transport}://127.0.0.1:${port}`);
    }
  }
  assert.equal((await exchange(DEFAULT_PORTS.echo, 'default')).toString(), 'default');
  assert.equal((await datagram(DEFAULT_PORTS.time, ''))?.length, 4);
  await stop(served);
});

test('serve echo daytime: just those two, tcp and udp', async (t) => {
  if (!(await portFree(10007)) || !(await portFree(10013)))
    return t.skip('127.0.0.1:10007 or :10013 is in use');
  const served = await startServe(t, ['echo', 'daytime']);
  assert.deepEqual(
    served.rows.map((r) => `${r.service}/${r.address}`),
    [
      'echo/tcp://127.0.0.1:10007',
      'echo/udp://127.0.0.1:10007',
      'daytime/tcp://127.0.0.1:10013',
      'daytime/udp://127.0.0.1:10013',
    ],
  );
  assert.match(
    (await exchange(10013)).toString(),
    /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n$/,
  );
  await stop(served);
});

test('serve SERVICE=ENDPOINT with port 0: the table gives the real ports', async (t) => {
  const served = await startServe(t, ['echo=tcp://127.0.0.1:0', 'time=udp://127.0.0.1:0']);
  assert.equal(served.rows.length, 2);
  const echo = rowOf(served, 'echo');
  const time = rowOf(served, 'time', 'udp');
  assert.ok(echo.port > 0 && time.port > 0);
  assert.equal((await exchange(echo.port, 'spec')).toString(), 'spec');
  const reply = await datagram(time.port, '');
  assert.equal(reply?.length, 4);
  const unix = (reply as Buffer).readUInt32BE(0) - 2_208_988_800;
  assert.ok(Math.abs(unix - Date.now() / 1000) < 5, 'time is not now');
  await stop(served);
});

test('serve --config: string and object services, limits, quotes relative to the config', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'quotes.txt'), 'Only this quote.\n');
  const config = join(dir, 'services.json');
  writeFileSync(
    config,
    JSON.stringify({
      services: [
        'echo=tcp://127.0.0.1:0',
        { service: 'qotd', endpoint: 'tcp://127.0.0.1:0' },
        { service: 'time', endpoint: 'udp://127.0.0.1:0' },
      ],
      limits: { maxConnections: 1 },
      quotes: 'quotes.txt',
    }),
  );
  const served = await startServe(t, ['--config', config]);
  assert.equal(served.rows.length, 3);
  assert.match((await exchange(rowOf(served, 'qotd').port)).toString(), /^Only this quote\./);
  assert.equal((await datagram(rowOf(served, 'time', 'udp').port, ''))?.length, 4);
  // maxConnections 1: with one echo connection open, the next is closed at once.
  const echoPort = rowOf(served, 'echo').port;
  const held = net.connect({ port: echoPort, host: '127.0.0.1' });
  t.after(() => held.destroy());
  held.write('hold');
  await new Promise((r) => held.once('data', r));
  const second = await exchange(echoPort, 'second').then(String, (e) => e.code);
  assert.ok(second === '' || second === 'ECONNRESET', `served over the limit: ${second}`);
  held.destroy();
  await stop(served);
});

test('serve --config with a bad config: exit 2 and a message naming the problem', async (t) => {
  const dir = tempDir(t);
  const cases: [object | string, RegExp][] = [
    [{ services: ['echo'], limit: {} }, /unknown key "limit"/],
    [{ services: ['echo'], limits: { maxConnection: 5 } }, /unknown limit "maxConnection"/],
    [
      { services: ['echo=tcp://127.0.0.1:99999'] },
      /services\[0\]: bad endpoint .*port 99999 is above 65535/,
    ],
    [{ services: [{ service: 'echo', endpoint: 'tcp:/127.0.0.1:7' }] }, /bad endpoint/],
    [{ services: ['nosuch'] }, /unknown service "nosuch"/],
    [{ services: [] }, /"services" must be a non-empty array/],
    ['{ not json', /not valid JSON/],
  ];
  for (const [i, [content, message]] of cases.entries()) {
    const path = join(dir, `bad${i}.json`);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    const r = await runCli(['serve', '--config', path]);
    assert.equal(r.code, 2, `${path}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.ok(r.stderr.includes(path), `the message does not name the file: ${r.stderr}`);
  }
  const missing = await runCli(['serve', '--config', join(dir, 'missing.json')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file/);
});

test('serve --host 0.0.0.0: the table says the endpoints are exposed', async (t) => {
  const served = await startServe(t, ['echo=0', '--host', '0.0.0.0']);
  assert.match(served.output(), /SOME ARE EXPOSED to the network/);
  assert.match(served.output(), /tcp:\/\/0\.0\.0\.0:\d+ +<- reachable from the network/);
  assert.equal((await exchange(rowOf(served, 'echo').port, 'wide')).toString(), 'wide');
  await stop(served);
});

test('serve --trace: accept, data each way, FIN each way and close on stderr', async (t) => {
  const served = await startServe(t, ['echo=tcp://127.0.0.1:0', '--trace']);
  const port = rowOf(served, 'echo').port;
  assert.equal((await exchange(port, 'hello')).toString(), 'hello');
  await waitFor(() => /close/.test(served.errors()), 'the close line');
  const lines = served.errors();
  assert.match(lines, /echo tcp #\d+ accept 127\.0\.0\.1:\d+ on 127\.0\.0\.1:\d+/);
  assert.match(lines, /#\d+ <- 5 B "hello"/);
  assert.match(lines, /#\d+ -> 5 B "hello"/);
  assert.match(lines, /#\d+ <- FIN/);
  assert.match(lines, /#\d+ -> FIN/);
  assert.match(lines, /#\d+ close, 10 B total/);
  const order = ['accept', '<- 5 B', '-> 5 B', '<- FIN', '-> FIN', 'close'].map((s) =>
    lines.indexOf(s),
  );
  assert.deepEqual(
    order,
    [...order].sort((a, b) => a - b),
    `events out of order:\n${lines}`,
  );
  await stop(served);
});

test('serve --json: the table and the trace as JSON lines', async (t) => {
  const served = await startServe(t, ['echo=tcp://127.0.0.1:0', '--json', '--trace']);
  const table = served
    .output()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(table.length, 1);
  assert.equal(table[0].event, 'listening');
  assert.equal(table[0].service, 'echo');
  assert.equal(table[0].exposed, false);
  await exchange(table[0].port, 'js');
  await waitFor(() => /"type":"close"/.test(served.errors()), 'the close event');
  const events = served
    .errors()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const types = events.map((e) => e.type);
  for (const type of ['listen', 'accept', 'data-in', 'data-out', 'half-close-in', 'close'])
    assert.ok(types.includes(type), `no ${type} event in ${types.join(', ')}`);
  assert.equal(events.find((e) => e.type === 'data-in').preview, 'js');
  served.kill('SIGTERM');
  await exited(served);
  assert.match(served.errors(), /"event":"draining"/);
});

test('serve usage errors: unknown service 2, bad endpoint 2, port in use 3', async (t) => {
  const unknown = await runCli(['serve', 'echoo']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown service "echoo" \(known: echo, /);
  const bad = await runCli(['serve', 'echo=tcp://127.0.0.1:70000']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bad endpoint "tcp:\/\/127\.0\.0\.1:70000": port 70000 is above 65535/);
  const badOption = await runCli(['serve', '--max-connections', 'many']);
  assert.equal(badOption.code, 2);
  assert.match(badOption.stderr, /--max-connections takes a whole number/);

  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  t.after(() => taken.close());
  const port = (taken.address() as net.AddressInfo).port;
  const inUse = await runCli(['serve', `echo=tcp://127.0.0.1:${port}`]);
  assert.equal(inUse.code, 3);
  assert.match(inUse.stderr, new RegExp(`tcp://127\\.0\\.0\\.1:${port} is already in use`));
});

test('--help for each verb exits 0 and shows examples', async () => {
  for (const verb of ['serve', 'connect', 'udp']) {
    const r = await runCli([verb, '--help']);
    assert.equal(r.code, 0, `${verb} --help: ${r.stderr}`);
    const text = r.stdout.toString();
    assert.match(text, new RegExp(`^Usage: wirecat ${verb}`));
    assert.match(text, /Examples:\n {2}\S/);
    assert.match(text, new RegExp(`wirecat ${verb} `));
  }
  const top = await runCli(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout.toString(), /Commands:[\s\S]*serve[\s\S]*connect[\s\S]*udp/);
  // Every exit code a script can get is listed where a newcomer looks first.
  const listed = /Exit codes: ([\s\S]*)$/.exec(top.stdout.toString())?.[1] ?? '';
  for (const code of Object.values(EXIT))
    assert.match(listed, new RegExp(`(^|[\\s,])${code} `), `exit code ${code} is not listed`);
});

// ---- graceful shutdown -------------------------------------------------------------------

test('SIGTERM drains: the in-flight reply arrives, then FIN, then exit 0', async (t) => {
  const served = await startServe(t, ['echo=tcp://127.0.0.1:0', '--drain-timeout', '3s']);
  const { socket, state } = await halfOpenClient(t, rowOf(served, 'echo').port);
  socket.write('hello ');
  await waitFor(() => state.data === 'hello ', 'the first echo');
  // The second request is on its way when the signal arrives.
  await new Promise<void>((r) => socket.write('world', () => r()));
  const since = Date.now();
  served.kill('SIGTERM');
  await waitFor(() => state.fin, 'the server FIN');
  assert.equal(state.data, 'hello world', 'the in-flight reply was lost');
  assert.ok(served.exitCode === null, 'exited before the client finished');
  socket.end(); // the client finishes: the drain is over
  const { code, ms } = await exited(served, since);
  assert.equal(code, 0, served.errors());
  assert.ok(ms < 3000, `took ${ms} ms: it waited for the drain deadline`);
  assert.match(served.errors(), /SIGTERM: draining 1 connection \(up to 3000 ms\)/);
});

test('a second SIGINT stops at once with exit code 130', async (t) => {
  const served = await startServe(t, ['echo=tcp://127.0.0.1:0', '--drain-timeout', '30s']);
  const { socket, state } = await halfOpenClient(t, rowOf(served, 'echo').port, { accepted: true });
  served.kill('SIGINT');
  await waitFor(() => state.fin, 'the server FIN');
  const since = Date.now();
  served.kill('SIGINT');
  const { code, ms } = await exited(served, since);
  assert.equal(code, 130);
  assert.ok(ms < 2000, `took ${ms} ms`);
  assert.match(served.errors(), /SIGINT again, stopping now/);
  await assertCutOff(socket, state);
});

test('a client that never closes is cut at --drain-timeout', async (t) => {
  const served = await startServe(t, ['echo=tcp://127.0.0.1:0', '--drain-timeout', '500ms']);
  const { socket, state } = await halfOpenClient(t, rowOf(served, 'echo').port, { accepted: true });
  const since = Date.now();
  served.kill('SIGTERM');
  const { code, ms } = await exited(served, since);
  assert.equal(code, 0);
  assert.ok(ms >= 450, `exited after ${ms} ms, before the drain deadline`);
  assert.ok(ms < 3000, `exited after ${ms} ms, long after the drain deadline`);
  assert.ok(state.fin, 'no FIN before the cut');
  await assertCutOff(socket, state);
});

test('SIGTERM drains: a reply the service still owes (reverse, partial line) is sent before FIN', async (t) => {
  const served = await startServe(t, [
    'reverse=tcp://127.0.0.1:0',
    '--flush-delay',
    '300ms',
    '--drain-timeout',
    '3s',
  ]);
  const { socket, state } = await halfOpenClient(t, rowOf(served, 'reverse').port);
  socket.write('line\n');
  await waitFor(() => state.data === 'enil\n', 'the first answer');
  // A partial line: reverse answers it after the flush delay, or at our FIN.
  await new Promise<void>((r) => socket.write('abc', () => r()));
  await new Promise((r) => setTimeout(r, 50));
  served.kill('SIGTERM');
  await waitFor(() => state.fin, 'the server FIN');
  assert.equal(state.data, 'enil\ncba', 'the owed answer was lost');
  socket.end();
  assert.equal((await exited(served)).code, 0);
});
