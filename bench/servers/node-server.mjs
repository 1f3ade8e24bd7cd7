// The bare node:net / node:dgram reference servers the benchmark compares wirecat with:
// the few lines anyone would write (socket.pipe(socket) echo, accept-write-close daytime,
// dgram echo). Usage: node node-server.mjs echo|daytime|udp PORT [HOST]

import dgram from 'node:dgram';
import net from 'node:net';

const [mode, portArg, host = '127.0.0.1'] = process.argv.slice(2);
const port = Number(portArg);
const BACKLOG = 4096;
const ignore = () => {};

if (mode === 'echo') {
  net
    .createServer((socket) => {
      socket.on('error', ignore);
      socket.pipe(socket);
    })
    .listen({ host, port, backlog: BACKLOG });
} else if (mode === 'daytime') {
  net
    .createServer((socket) => {
      socket.on('error', ignore);
      socket.end(`${new Date().toUTCString()}\r\n`);
    })
    .listen({ host, port, backlog: BACKLOG });
} else if (mode === 'udp') {
  const socket = dgram.createSocket('udp4');
  socket.on('error', ignore);
  socket.on('message', (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
  socket.bind(port, host);
} else {
  process.stderr.write('usage: node node-server.mjs echo|daytime|udp PORT [HOST]\n');
  process.exit(2);
}
