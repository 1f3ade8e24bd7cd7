// A deliberately wrong stand-in for the wirecat CLI, used only by `run.mjs --selftest` to
// prove the harness fails loudly on wrong bytes: echo reverses each chunk, UDP echo flips a
// byte, daytime and `connect` answer with text that is not a time.
// Usage: same as wirecat: `serve SERVICE=tcp://HOST:PORT|udp://HOST:PORT ...`, `connect H:P`.

import dgram from 'node:dgram';
import net from 'node:net';

const [verb, ...rest] = process.argv.slice(2);
if (verb === 'connect') {
  process.stdout.write('no time here\r\n');
  process.exit(0);
}
for (const spec of rest.filter((a) => a.includes('='))) {
  const [service, endpoint] = spec.split('=');
  const url = new URL(endpoint);
  const host = url.hostname;
  const port = Number(url.port);
  if (url.protocol === 'udp:') {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg, rinfo) => {
      msg[msg.length - 1] ^= 0xff;
      socket.send(msg, rinfo.port, rinfo.address);
    });
    socket.bind(port, host);
  } else if (service === 'daytime') {
    net
      .createServer((s) => {
        s.on('error', () => {});
        s.end('this is not the time of day\r\n');
      })
      .listen({ host, port, backlog: 4096 });
  } else {
    net
      .createServer((s) => {
        s.on('error', () => {});
        s.on('data', (chunk) => s.write(Buffer.from(chunk).reverse()));
        s.on('end', () => s.end());
      })
      .listen({ host, port, backlog: 4096 });
  }
}
