// What the benchmark measures: each scenario's loadgen command, its headline figure, and the
// command line of every server it runs (wirecat, bare node, socat, python), on one port each.

import { join } from 'node:path';

const HOST = '127.0.0.1';
const SOCAT_TCP = (port) => `TCP4-LISTEN:${port},bind=${HOST},reuseaddr,fork,backlog=4096`;
// Server CPU per unit of work: less sensitive to other load on the machine than the rates.
const serverPct = (j) => (j.cpu?.server_pct > 0 ? j.cpu.server_pct : undefined);
const perOp = (j) =>
  serverPct(j) && j.ops_per_s > 0 && { value: (serverPct(j) * 1e4) / j.ops_per_s, unit: 'us/op' };
const perGB = (j) =>
  serverPct(j) && j.mb_per_s > 0 && { value: (serverPct(j) * 1e4) / j.mb_per_s, unit: 'ms/GB' };

/** The daytime reply every server must send: a line with a clock time in it. */
export const DAYTIME_REPLY = /\d{1,2}:\d{2}:\d{2}/;

/**
 * The load scenarios. `ctx`: { node, cli (wirecat CLI file), python, benchDir, secs, warmup,
 * idleConns }. Each server entry is a function of the port giving the argv to run.
 */
export function loadScenarios(ctx) {
  const nodeServer = (mode) => (port) => [
    ctx.node,
    join(ctx.benchDir, 'servers/node-server.mjs'),
    mode,
    String(port),
  ];
  const pyServer = (mode) => (port) => [
    ctx.python,
    join(ctx.benchDir, 'servers/py-server.py'),
    mode,
    String(port),
  ];
  const wirecat =
    (spec, ...extra) =>
    (port) => [ctx.node, ctx.cli, 'serve', `${spec}://${HOST}:${port}`, ...extra];
  const timing = ['--secs', String(ctx.secs), '--warmup', String(ctx.warmup)];
  const echoServers = {
    wirecat: wirecat('echo=tcp'),
    node: nodeServer('echo'),
    socat: (port) => ['socat', SOCAT_TCP(port), 'PIPE'],
    python: pyServer('echo'),
  };
  return [
    {
      name: 'echo',
      title: 'echo request/response, 100 connections x 64 B',
      unit: 'round trips/s',
      better: 'higher',
      transport: 'tcp',
      loadgen: ['--mode', 'echo', '--conns', '100', '--size', '64', ...timing],
      figure: (j) => j.ops_per_s,
      cost: perOp,
      servers: echoServers,
    },
    {
      name: 'stream',
      title: 'bulk echo stream, 1 connection, 64 KiB writes, 4 MiB in flight',
      unit: 'MB/s',
      better: 'higher',
      transport: 'tcp',
      loadgen: ['--mode', 'stream', '--wsize', '65536', '--window', '4194304', ...timing],
      figure: (j) => j.mb_per_s,
      cost: perGB,
      servers: echoServers,
    },
    {
      name: 'daytime',
      title: 'daytime connect-read-close, concurrency 50',
      unit: 'conns/s',
      better: 'higher',
      transport: 'tcp',
      checkDaytime: true,
      loadgen: ['--mode', 'connrate', '--conns', '50', '--expect-min', '20', ...timing],
      figure: (j) => j.ops_per_s,
      cost: perOp,
      servers: {
        wirecat: wirecat('daytime=tcp'),
        node: nodeServer('daytime'),
        socat: (port) => ['socat', SOCAT_TCP(port), 'EXEC:date'],
        python: pyServer('daytime'),
      },
    },
    {
      name: 'udp',
      title: 'UDP echo, 64 B, 32 datagrams outstanding',
      unit: 'datagrams/s',
      better: 'higher',
      transport: 'udp',
      loadgen: ['--mode', 'udp', '--conns', '32', '--size', '64', '--timeout-ms', '200', ...timing],
      figure: (j) => j.ops_per_s,
      cost: perOp,
      servers: {
        wirecat: wirecat('echo=udp'),
        node: nodeServer('udp'),
        // UDP-LISTEN,fork PIPE merges queued datagrams; RECVFROM,fork keeps them apart.
        socat: (port) => ['socat', `UDP4-RECVFROM:${port},bind=${HOST},fork`, 'PIPE'],
        python: pyServer('udp'),
      },
    },
    {
      name: 'idle',
      title: `${ctx.idleConns.toLocaleString('en-US')} idle connections: server RSS per connection`,
      unit: 'B RSS/conn',
      better: 'lower',
      transport: 'tcp',
      idle: true,
      loadgen: [
        '--mode',
        'idle',
        '--conns',
        String(ctx.idleConns),
        '--secs',
        String(ctx.secs),
        '--batch',
        '256',
        '--connect-timeout',
        '30',
        // A thread-per-connection server needs a while to start 10,000 threads.
        '--timeout-ms',
        '15000',
      ],
      figure: (j) => j.idle?.rss_per_conn_bytes,
      servers: {
        // The default limits (10,000 overall, 1,000 per source) would refuse the load itself.
        wirecat: wirecat(
          'echo=tcp',
          '--max-connections',
          String(ctx.idleConns * 2),
          '--max-per-source',
          String(ctx.idleConns * 2),
        ),
        node: nodeServer('echo'),
        // socat forks a process per connection: 10,000 of them is not a meaningful test.
        python: pyServer('echo'),
      },
    },
  ];
}

/**
 * The one-shot clients timed with hyperfine against a bare node daytime server. `kind` is
 * the --servers name that selects it (nc and the start-up reference always run).
 */
export function oneShotClients(ctx, port) {
  const p = String(port);
  return [
    {
      kind: 'wirecat',
      name: 'wirecat connect',
      argv: [ctx.node, ctx.cli, 'connect', `${HOST}:${p}`],
    },
    {
      kind: 'node',
      name: 'node net client',
      argv: [ctx.node, join(ctx.benchDir, 'servers/node-client.mjs'), HOST, p],
    },
    { kind: 'nc', name: 'nc -N', argv: ['nc', '-N', HOST, p] },
    { kind: 'nc', name: 'nc', argv: ['nc', HOST, p] },
    { kind: 'socat', name: 'socat', argv: ['socat', '-u', `TCP:${HOST}:${p}`, 'STDOUT'] },
    {
      kind: 'python',
      name: 'python3 socket client',
      argv: [ctx.python, join(ctx.benchDir, 'servers/py-client.py'), HOST, p],
    },
    {
      kind: 'ref',
      name: 'node -e 0 (start-up only)',
      argv: [ctx.node, '-e', '0'],
      startupOnly: true,
    },
  ];
}
