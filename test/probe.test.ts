// probe: passes against wirecat's own services (TCP and UDP), and catches the real bugs of
// other servers, re-created here: xinetd's 1024-byte UDP chargen and loop-prone UDP echo,
// Twisted's Unix-epoch time, a daytime that never closes, an echo that cannot half-close.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { test } from 'node:test';
import { probe } from '../src/client/probe.js';
import { chargenLine } from '../src/services/chargen.js';
import { portOf, runCli, startHost } from './helpers.js';

const SERVICES = ['echo', 'discard', 'chargen', 'qotd', 'daytime', 'time'] as const;

test('every wirecat service passes over TCP and UDP', async (t) => {
  const host = await startHost(
    t,
    SERVICES.flatMap((s) => [`${s}=tcp://127.0.0.1:0`, `${s}=udp://127.0.0.1:0`]),
  );
  for (const service of SERVICES) {
    const tcp = await probe(`tcp://127.0.0.1:${portOf(host, service)}`, {
      service,
      timeoutMs: 500,
    });
    const udp = await probe(`udp://127.0.0.1:${portOf(host, service, 'udp')}`, {
      service,
      timeoutMs: 500,
    });
    for (const report of [tcp, udp]) {
      const failed = report.checks.filter((c) => c.status === 'fail');
      assert.deepEqual(failed, [], `${service}: ${JSON.stringify(failed)}`);
      assert.ok(report.checks.some((c) => c.status === 'pass'));
    }
  }
});

async function tcpServer(t: import('node:test').TestContext, onSocket: (s: net.Socket) => void) {
  const server = net.createServer(onSocket);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

async function udpServer(t: import('node:test').TestContext, answer: (msg: Buffer) => Buffer) {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => socket.send(answer(msg), rinfo.port, rinfo.address));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.after(() => socket.close());
  return socket.address().port;
}

function failedNames(report: Awaited<ReturnType<typeof probe>>): string[] {
  return report.checks.filter((c) => c.status === 'fail').map((c) => c.name);
}

test('catches a UDP chargen that answers an empty datagram with 1024 bytes (xinetd)', async (t) => {
  const lines = Array.from({ length: 14 }, (_, i) => chargenLine(i)).join('');
  const port = await udpServer(t, () => Buffer.from(lines.slice(0, 1024), 'latin1'));
  const report = await probe(`udp://127.0.0.1:${port}`, { service: 'chargen', timeoutMs: 300 });
  assert.ok(
    failedNames(report).includes('reply of 0-512 characters to an empty datagram (RFC 864)'),
  );
  assert.equal(report.passed, false);
});

test('catches a UDP echo that answers service and privileged source ports (loop risk)', async (t) => {
  const port = await udpServer(t, (msg) => msg);
  const report = await probe(`udp://127.0.0.1:${port}`, { service: 'echo', timeoutMs: 300 });
  const names = failedNames(report);
  assert.ok(names.includes('no reply to a service source port (loop safety)'), String(names));
  // Root may bind port 19; otherwise that check is skipped, never passed.
  const privileged = report.checks.find((c) => c.name.startsWith('no reply to a privileged'));
  assert.notEqual(privileged?.status, 'pass');
});

test('catches a time server that sends the Unix epoch (Twisted)', async (t) => {
  const port = await tcpServer(t, (s) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(Math.floor(Date.now() / 1000));
    s.end(b);
  });
  const report = await probe(`tcp://127.0.0.1:${port}`, { service: 'time', timeoutMs: 500 });
  const check = report.checks.find((c) => c.name.startsWith('4 bytes'));
  assert.equal(check?.status, 'fail');
  assert.match(check?.detail ?? '', /Unix time \(1970 epoch\).*decodes as 19[45]\d/);
});

test('catches a daytime that never closes', async (t) => {
  const port = await tcpServer(t, (s) => s.write(`${new Date().toUTCString()}\r\n`));
  const report = await probe(`tcp://127.0.0.1:${port}`, { service: 'daytime', timeoutMs: 400 });
  assert.deepEqual(failedNames(report), ['replies, then closes without waiting for input']);
});

test("catches an echo that cannot answer after the client's FIN (allowHalfOpen: false)", async (t) => {
  const port = await tcpServer(t, (s) => s.on('data', (d) => setTimeout(() => s.write(d), 20)));
  const report = await probe(`tcp://127.0.0.1:${port}`, { service: 'echo', timeoutMs: 500 });
  assert.deepEqual(failedNames(report), ["answers after the client's FIN, then closes"]);
});

test('CLI: exit 0 on pass with a table, 1 on a failure, 3 when nothing answers', async (t) => {
  const host = await startHost(t, ['time=tcp://127.0.0.1:0']);
  const ok = await runCli(['probe', `tcp://127.0.0.1:${portOf(host, 'time')}`, '-s', 'time']);
  assert.equal(ok.code, 0, ok.stdout.toString());
  assert.match(ok.stdout.toString(), /PASS.*\n.*PASS/);
  assert.match(ok.stdout.toString(), /2 checks: 2 passed, 0 failed/);

  const broken = await tcpServer(t, (s) => s.end(Buffer.from([0, 0, 0, 1])));
  const bad = await runCli(['probe', `tcp://127.0.0.1:${broken}`, '-s', 'time']);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout.toString(), /FAIL/);

  const none = await runCli(['probe', 'tcp://127.0.0.1:1', '-s', 'echo']);
  assert.equal(none.code, 3, none.stdout.toString());
});
