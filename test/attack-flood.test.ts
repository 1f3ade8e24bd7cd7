// Attack: connection floods. More connections than maxConnections at once, and more than
// maxConnectionsPerSource from one address: the excess is refused and counted, the rest are
// served, and connections are accepted again once the flood ends. Running out of file
// descriptors (a `wirecat serve` child under `prlimit --nofile=64`) is survived: the process
// stays up and serves again when the connections close.

import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { figure, HEAVY, openFds, openMany, rssMiB, serveChild, sleep } from './attack-helpers.js';
import { exchange, portOf, requirePeer, startHost, waitFor } from './helpers.js';

test('a flood over maxConnections: the excess is refused and counted; service resumes after', async (t) => {
  const limit = HEAVY ? 2_000 : 100;
  const flood = 3 * limit;
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0', 'daytime=tcp://127.0.0.1:0'], {
    limits: { maxConnections: limit, maxConnectionsPerSource: flood },
  });
  const port = portOf(host, 'echo');
  const started = Date.now();
  const probes = await openMany(t, port, flood, { batch: 500 });
  await waitFor(
    () => host.stats.refusedOverall + host.stats.connectionsOpen === flood,
    'every connection to be accepted or refused',
    15_000,
  );
  const took = Date.now() - started;
  assert.equal(host.stats.connectionsOpen, limit);
  assert.equal(host.stats.refusedOverall, flood - limit);
  await waitFor(() => probes.filter((p) => p.closed).length === flood - limit, 'refusals to close');
  // The accepted ones work: one round trip on each of a sample.
  const open = probes.filter((p) => !p.closed);
  for (const p of open.slice(0, 20)) p.socket.write('ok');
  await waitFor(() => open.slice(0, 20).every((p) => p.text() === 'ok'), 'echo on accepted ones');
  // A new client is refused while full (on any service), served once the flood goes.
  assert.equal(
    (await exchange(portOf(host, 'daytime'), '').catch(() => Buffer.alloc(0))).length,
    0,
  );
  for (const p of probes) p.socket.destroy();
  await waitFor(() => host.stats.connectionsOpen === 0, 'every slot to be released', 10_000);
  assert.equal((await exchange(port, 'back')).toString(), 'back');
  figure(
    t,
    `flood: ${flood} connections at once against maxConnections ${limit}: ${host.stats.refusedOverall} refused and counted in ${took} ms, RSS ${rssMiB().toFixed(0)} MiB (both ends), served again after`,
  );
});

test('a flood from one source: refused over maxConnectionsPerSource; another source is still served', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0'], {
    limits: { maxConnectionsPerSource: 50 },
  });
  const port = portOf(host, 'echo');
  // 127.0.0.0/8 is all loopback on Linux: each address is its own source.
  const attacker = await openMany(t, port, 200, { localAddress: '127.0.0.2' });
  await waitFor(() => host.stats.refusedPerSource === 150, '150 refusals', 10_000);
  assert.equal(host.stats.connectionsOpen, 50);
  assert.equal(host.stats.refusedOverall, 0);
  const other = await new Promise<Buffer>((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.3' });
    const parts: Buffer[] = [];
    socket.on('connect', () => socket.end('other'));
    socket.on('data', (d) => parts.push(d));
    socket.on('end', () => resolve(Buffer.concat(parts)));
    socket.on('error', reject);
  });
  assert.equal(other.toString(), 'other');
  for (const p of attacker) p.socket.destroy();
  await waitFor(() => host.stats.connectionsOpen === 0, 'slots released');
  assert.equal(
    (await exchange({ host: '127.0.0.1', port }, 'again', { timeoutMs: 3000 })).toString(),
    'again',
  );
});

test('EMFILE: out of file descriptors, wirecat serve stays up and serves again once they close', async (t) => {
  if (!requirePeer(t, 'prlimit', 'util-linux')) return;
  const served = await serveChild(t, ['echo=tcp://127.0.0.1:0'], ['prlimit', '--nofile=64:64']);
  const port = served.port('echo');
  const fdsIdle = openFds(served.pid);
  // Far more connections than descriptors: the kernel queues them; accept fails with EMFILE.
  const probes = await openMany(t, port, 200, { batch: 200 });
  await sleep(1500);
  const fdsFull = openFds(served.pid);
  assert.ok(fdsFull >= 60, `only ${fdsFull} fds open: the test never reached the limit`);
  assert.equal(served.child.exitCode, null, `wirecat serve died: ${served.errors()}`);
  const accepted = probes.filter((p) => !p.closed);
  // While full, a new client may wait or be dropped; it must not crash anything.
  for (const p of probes) p.socket.destroy();
  await sleep(500);
  // Accept resumes: every later client is served, promptly.
  const started = Date.now();
  for (let i = 0; i < 20; i++) {
    assert.equal((await exchange(port, `r${i}`, { timeoutMs: 5000 })).toString(), `r${i}`);
  }
  const resumed = Date.now() - started;
  assert.equal(served.child.exitCode, null);
  assert.doesNotMatch(served.errors(), /EMFILE|Error/);
  figure(
    t,
    `EMFILE: 200 connections against a 64-fd limit (${fdsIdle} fds idle, ${fdsFull} at peak, ${accepted.length} held open): the process stayed up; 20 echo exchanges after in ${resumed} ms`,
  );
});
