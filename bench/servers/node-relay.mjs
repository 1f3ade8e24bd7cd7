// The bare node:net relay bench/relay.mjs measures beside wirecat and socat: the few lines
// anyone would write (one upstream connection per client, pipe() both ways, FIN passed on),
// so a gap to socat can be told apart from wirecat's own cost.
// Usage: node node-relay.mjs LISTEN_PORT UPSTREAM_PORT   (both on 127.0.0.1)

import net from 'node:net';

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);

net
  .createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const upstream = net.connect({
      port: upstreamPort,
      host: '127.0.0.1',
      allowHalfOpen: true,
      noDelay: true,
    });
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', cut);
    upstream.on('error', cut);
    client.pipe(upstream);
    upstream.pipe(client);
  })
  .listen({ port: listenPort, host: '127.0.0.1', backlog: 4096 });
