// The bare node:dgram TFTP server bench/tftp.mjs uses as the floor: what Node itself costs
// per lock-step block (RFC 1350 RRQ and WRQ, octet, RFC 2348 blksize, nothing else), so a gap
// to in.tftpd can be told apart from wirecat's own overhead. A download is read whole into
// memory first, an upload is held in memory and written once at its end: only the datagram
// path is timed. Usage: node node-tftp.mjs PORT ROOT   (a lost packet is resent after 1 s)

import dgram from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [portArg, root] = process.argv.slice(2);
const RESEND_MS = 1000;
const MAX_RESENDS = 5;

const error = (code, text) => {
  const b = Buffer.alloc(5 + text.length);
  b.writeUInt16BE(5, 0);
  b.writeUInt16BE(code, 2);
  b.write(text, 4, 'latin1');
  return b;
};

const listener = dgram.createSocket('udp4');
listener.on('message', (msg, peer) => {
  const op = msg.readUInt16BE(0);
  if (op !== 1 && op !== 2) return;
  const fields = msg.toString('latin1', 2).split('\0');
  const path = join(root, fields[0].replace(/\.\./g, ''));
  const asked = fields.findIndex((f, i) => i > 1 && f.toLowerCase() === 'blksize');
  const blksize = asked > 0 ? Math.min(65464, Math.max(8, Number(fields[asked + 1]))) : 512;
  if (op === 2) return receive(path, blksize, asked > 0, peer);
  let data;
  try {
    data = readFileSync(path);
  } catch {
    return listener.send(error(1, 'File not found'), peer.port, peer.address);
  }
  serve(data, blksize, asked > 0, peer);
});
listener.bind(Number(portArg), '127.0.0.1');

/**
 * A transfer's own socket: `send` puts one packet on the wire and resends it every RESEND_MS
 * until the next `send` (lock-step); datagrams from the peer's port go to `onMessage`.
 */
function transfer(peer, onMessage) {
  const socket = dgram.createSocket('udp4');
  let out;
  let resends = 0;
  const timer = setTimeout(() => {
    if (++resends > MAX_RESENDS) return socket.close();
    socket.send(out, peer.port, peer.address);
    timer.refresh();
  }, RESEND_MS);
  const t = {
    send(packet) {
      out = packet;
      resends = 0;
      socket.send(packet, peer.port, peer.address);
      timer.refresh();
    },
    /** Stop resending; close now, or after `lingerMs` (a receiver's last ACK may be lost). */
    close(lingerMs = 0) {
      clearTimeout(timer);
      setTimeout(() => socket.close(), lingerMs);
    },
  };
  socket.on('message', (msg, from) => {
    if (from.port === peer.port) onMessage(msg);
  });
  return { socket, t };
}

function serve(data, blksize, oack, peer) {
  const last = Math.floor(data.length / blksize) + 1;
  const packet = Buffer.allocUnsafe(blksize + 4);
  let block = oack ? 0 : 1; // the block whose ACK we wait for
  const dataPacket = (n) => {
    const start = (n - 1) * blksize;
    const len = data.copy(packet, 4, start, Math.min(start + blksize, data.length));
    packet.writeUInt16BE(3, 0);
    packet.writeUInt16BE(n & 0xffff, 2);
    return packet.subarray(0, len + 4);
  };
  const { socket, t } = transfer(peer, (msg) => {
    if (msg.readUInt16BE(0) !== 4) return;
    if (msg.readUInt16BE(2) !== (block & 0xffff)) return; // a duplicate ACK: wait for the timer
    if (block === last) return t.close();
    block++;
    t.send(dataPacket(block));
  });
  socket.bind(0, '127.0.0.1', () => t.send(oack ? oackPacket(blksize) : dataPacket(1)));
}

function receive(path, blksize, oack, peer) {
  const chunks = [];
  let block = 0; // the last block taken
  const { socket, t } = transfer(peer, (msg) => {
    if (msg.readUInt16BE(0) !== 3) return;
    if (msg.readUInt16BE(2) !== ((block + 1) & 0xffff)) return; // a duplicate: the timer acks
    block++;
    chunks.push(msg.subarray(4));
    if (msg.length - 4 < blksize) writeFileSync(path, Buffer.concat(chunks));
    t.send(ack(block));
    if (msg.length - 4 < blksize) t.close(RESEND_MS);
  });
  socket.bind(0, '127.0.0.1', () => t.send(oack ? oackPacket(blksize) : ack(0)));
}

function oackPacket(blksize) {
  return Buffer.from(`\0\x06blksize\0${blksize}\0`, 'latin1');
}

function ack(block) {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt16BE(4, 0);
  b.writeUInt16BE(block & 0xffff, 2);
  return b;
}
