// The leanest relay node:net allows, for bench/relay.mjs: both sockets read into one shared
// buffer (the `onread` option, no Buffer or stream event per read), each chunk is copied once
// and written; FIN and errors are passed on. No limits, timers or counters. It sets the
// floor for what any Node relay pays per chunk, tighter than servers/node-relay.mjs (pipe()).
// Usage: node node-relay-onread.mjs LISTEN_PORT UPSTREAM_PORT   (both on 127.0.0.1)

import net from 'node:net';

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
const shared = Buffer.allocUnsafe(65_536);

// A read is consumed before the next one lands in `shared`, so only what is written is copied.
const forwardTo = (target) => ({
  buffer: shared,
  callback: (n, buf) => {
    target.socket.write(Buffer.from(buf.subarray(0, n)));
  },
});

net
  .createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (accepted) => {
    const toClient = { socket: undefined };
    const toUpstream = { socket: undefined };
    toUpstream.socket = net.connect({
      port: upstreamPort,
      host: '127.0.0.1',
      allowHalfOpen: true,
      noDelay: true,
      onread: forwardTo(toClient),
    });
    // net.Server has no `onread` option in Node 20: re-create the accepted socket on its handle.
    const handle = accepted._handle;
    accepted._handle = null;
    toClient.socket = new net.Socket({
      handle,
      allowHalfOpen: true,
      readable: true,
      writable: true,
      onread: forwardTo(toUpstream),
    });
    const client = toClient.socket;
    const upstream = toUpstream.socket;
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', cut);
    upstream.on('error', cut);
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.resume();
  })
  .listen({ port: listenPort, host: '127.0.0.1', backlog: 4096 });
