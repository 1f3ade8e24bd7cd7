// Interop with real peer programs: nc (netcat-openbsd) -N, socat over TCP and UDP, and
// python3 socket clients written the way tutorials write them, against echo, daytime, time,
// chargen, reverse and qotd; and `wirecat connect` against a python3 server that reads to
// EOF before it replies (proof that we half-close and keep reading).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { type TestContext, test } from 'node:test';
import type { Host } from '../src/index.js';
import { portOf, requirePeer, runCli, startHost, waitFor } from './helpers.js';

const QUOTE = 'Interop is a conversation.';
const SERVICES = ['echo', 'daytime', 'time', 'chargen', 'reverse', 'qotd'];

/** One host with the six services on TCP and UDP, port 0, and a pinned quote. */
function startSix(t: TestContext): Promise<Host> {
  return startHost(
    t,
    SERVICES.flatMap((s) => [`${s}=tcp://127.0.0.1:0`, `${s}=udp://127.0.0.1:0`]),
    { quotes: [QUOTE] },
  );
}

/** Run `program args` with `input` on stdin; resolve with stdout and the exit code. */
function run(
  program: string,
  args: string[],
  input: Buffer | string = '',
  timeoutMs = 10_000,
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${program} ${args.join(' ')} did not finish; stderr: ${err}`));
    }, timeoutMs);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

const CHARGEN_LINE0 = `${Array.from({ length: 72 }, (_, i) => String.fromCharCode(32 + i)).join('')}\r\n`;
const DAYTIME = /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n$/;

function assertTime(reply: Buffer, who: string): void {
  assert.equal(reply.length, 4, `${who}: time sent ${reply.length} bytes`);
  const unix = reply.readUInt32BE(0) - 2_208_988_800;
  assert.ok(Math.abs(unix - Date.now() / 1000) < 5, `${who}: time is not now`);
}

/**
 * What each service must answer when a client sends `request` (and, over TCP, half-closes).
 * chargen is checked on the first bytes only: the client reads a few and closes.
 */
const EXPECT: Record<string, { request: string; check(reply: Buffer, who: string): void }> = {
  echo: {
    request: 'hello, interop\n',
    check: (r, who) => assert.equal(r.toString(), 'hello, interop\n', who),
  },
  daytime: { request: '', check: (r, who) => assert.match(r.toString(), DAYTIME, who) },
  time: { request: '', check: assertTime },
  chargen: {
    request: '',
    check: (r, who) => assert.equal(r.subarray(0, 74).toString(), CHARGEN_LINE0, who),
  },
  reverse: {
    request: 'Hello, world!\n',
    check: (r, who) => assert.equal(r.toString(), '!dlrow ,olleH\n', who),
  },
  qotd: { request: '', check: (r, who) => assert.equal(r.toString(), `${QUOTE}\r\n`, who) },
};

test('nc -N (netcat-openbsd) over TCP', async (t) => {
  if (!requirePeer(t, 'nc', 'netcat-openbsd')) return;
  const host = await startSix(t);
  for (const service of SERVICES) {
    const port = String(portOf(host, service));
    const { request, check } = EXPECT[service];
    if (service === 'chargen') {
      // Read 1000 bytes then stop: nc must be cut off cleanly by head.
      const r = await run('bash', ['-c', `nc -N 127.0.0.1 ${port} < /dev/null | head -c 1000`]);
      assert.equal(r.stdout.length, 1000);
      check(r.stdout, 'nc chargen');
      continue;
    }
    const r = await run('nc', ['-N', '127.0.0.1', port], request);
    assert.equal(r.code, 0, `nc ${service}: ${r.stderr}`);
    check(r.stdout, `nc ${service}`);
  }
  await waitFor(() => host.stats.connectionsOpen === 0, 'every connection to close');
});

test('socat - TCP:127.0.0.1:P', async (t) => {
  if (!requirePeer(t, 'socat')) return;
  const host = await startSix(t);
  for (const service of SERVICES) {
    const port = portOf(host, service);
    const { request, check } = EXPECT[service];
    if (service === 'chargen') {
      const r = await run('bash', ['-c', `socat -u TCP:127.0.0.1:${port} - | head -c 1000`]);
      assert.equal(r.stdout.length, 1000);
      check(r.stdout, 'socat chargen');
      continue;
    }
    const r = await run('socat', ['-t', '2', '-', `TCP:127.0.0.1:${port}`], request);
    assert.equal(r.code, 0, `socat ${service}: ${r.stderr}`);
    check(r.stdout, `socat ${service}`);
  }
  await waitFor(() => host.stats.connectionsOpen === 0, 'every connection to close');
});

test('socat - UDP:127.0.0.1:P', async (t) => {
  if (!requirePeer(t, 'socat')) return;
  const host = await startSix(t);
  for (const service of SERVICES) {
    const port = portOf(host, service, 'udp');
    // A datagram must carry something for socat to send it; the one-shot services ignore it.
    const request = EXPECT[service].request || 'x';
    const r = await run('socat', ['-t', '1', '-', `UDP:127.0.0.1:${port}`], request);
    assert.equal(r.code, 0, `socat udp ${service}: ${r.stderr}`);
    checkDatagram(service, r.stdout, `socat udp ${service}`);
  }
});

/** UDP answers: chargen is one datagram of whole 74-byte lines; the others as over TCP. */
function checkDatagram(service: string, reply: Buffer, who: string): void {
  if (service === 'chargen') {
    assert.ok(reply.length > 0 && reply.length <= 512, `${who}: ${reply.length} bytes`);
    assert.equal(reply.length % 74, 0, `${who}: not whole lines`);
    assert.match(reply.toString('latin1'), /^([ -~]{72}\r\n)+$/, who);
    return;
  }
  EXPECT[service].check(reply, who);
}

// The tutorial client: connect, sendall, shutdown(SHUT_WR), recv until b''.
const PY_TCP = `
import socket, sys
port, limit = int(sys.argv[1]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(('127.0.0.1', port))
s.sendall(sys.argv[2].encode())
s.shutdown(socket.SHUT_WR)
chunks = []
got = 0
while True:
    data = s.recv(4096)
    if not data:
        break
    chunks.append(data)
    got += len(data)
    if limit and got >= limit:
        break
s.close()
sys.stdout.buffer.write(b''.join(chunks))
`;

const PY_UDP = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(sys.argv[2].encode(), ('127.0.0.1', int(sys.argv[1])))
data, addr = s.recvfrom(65535)
sys.stdout.buffer.write(data)
`;

test('python3 tutorial clients over TCP and UDP', async (t) => {
  if (!requirePeer(t, 'python3')) return;
  const host = await startSix(t);
  for (const service of SERVICES) {
    const { request, check } = EXPECT[service];
    const limit = service === 'chargen' ? '5000' : '0';
    const tcp = await run('python3', ['-c', PY_TCP, String(portOf(host, service)), request, limit]);
    assert.equal(tcp.code, 0, `python tcp ${service}: ${tcp.stderr}`);
    check(tcp.stdout, `python tcp ${service}`);
    const udp = await run('python3', [
      '-c',
      PY_UDP,
      String(portOf(host, service, 'udp')),
      request || 'x',
    ]);
    assert.equal(udp.code, 0, `python udp ${service}: ${udp.stderr}`);
    checkDatagram(service, udp.stdout, `python udp ${service}`);
  }
  await waitFor(() => host.stats.connectionsOpen === 0, 'every connection to close');
});

// A server that only answers once the client has finished sending (read to EOF), the way
// a request/response protocol over half-close works: it replies with the byte count.
const PY_SERVER = `
import socket, sys
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(('127.0.0.1', 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
srv.settimeout(10)
conn, _ = srv.accept()
total = 0
while True:
    data = conn.recv(65536)
    if not data:
        break
    total += len(data)
conn.sendall(b'got %d bytes\\n' % total)
conn.close()
`;

test('wirecat connect half-closes and keeps reading (python3 server replies after EOF)', async (t) => {
  if (!requirePeer(t, 'python3')) return;
  const server = spawn('python3', ['-c', PY_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
  });
  let printed = '';
  server.stdout.on('data', (d) => {
    printed += d;
  });
  const port = await waitFor(() => /^(\d+)\n/.exec(printed)?.[1], 'the python server port');
  const input = Buffer.alloc(300_000, 0x7a);
  const r = await runCli(['connect', `127.0.0.1:${port}`, '-v'], { input });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'got 300000 bytes\n');
  assert.match(r.stderr, /sent 300000 B, received 17 B, we closed first/);
});
