// The bare node:net one-shot client the benchmark times beside `wirecat connect`: connect,
// half-close at once (like nc -N with empty stdin), copy the reply to stdout, exit.
// Usage: node node-client.mjs HOST PORT

import net from 'node:net';

const [host, port] = process.argv.slice(2);
const socket = net.connect({ host, port: Number(port) });
socket.on('error', (err) => {
  process.stderr.write(`node-client: ${err.message}\n`);
  process.exitCode = 1;
});
socket.pipe(process.stdout);
socket.end();
