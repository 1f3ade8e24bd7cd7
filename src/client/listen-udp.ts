// `listen` over UDP: every datagram from any peer goes to the output (or above the prompt),
// and what we send — each input chunk, or each typed line — goes as datagrams to the most
// recent peer (default) or to every peer heard from recently. Unlike `nc -u -l`, which locks
// onto the first peer, it serves many. Sending waits until a first peer has been heard.

import type dgram from 'node:dgram';
import { Readable } from 'node:stream';
import { monotonicMs } from '../monotonic.js';
import { channels, publish } from '../observe/channels.js';
import { type Endpoint, formatEndpoint, formatHostPort } from '../transport/endpoint.js';
import { listenDatagram } from '../transport/listen.js';
import { IncomingText, LinePrompt } from './interactive.js';
import type { Listener, ListenOptions, ListenResult } from './listen.js';
import { crlfConverter } from './session.js';
import { MAX_DATAGRAM_PAYLOAD } from './udp.js';

/** Peers remembered for `udpReplyTo: 'all'` (the least recently heard is forgotten first). */
export const DEFAULT_UDP_PEERS = 256;
/** A peer silent for this long no longer gets `udpReplyTo: 'all'` datagrams. */
export const DEFAULT_UDP_PEER_TTL_MS = 300_000;
/** Datagrams arriving while this many bytes wait for the output are dropped (and counted). */
export const DEFAULT_UDP_OUTPUT_BACKLOG = 1_048_576;

/** UDP-only listen options. */
export interface ListenUdpOptions {
  /** Where our datagrams go: the most recent peer (default) or every recent peer. */
  udpReplyTo?: 'last' | 'all';
}

interface Peer {
  socket: dgram.Socket;
  address: string;
  port: number;
  label: string;
  seen: number;
}

/** Bind a UDP endpoint and relay datagrams until aborted (or the line mode's /quit). */
export async function listenUdp(
  endpoint: Endpoint,
  options: ListenOptions,
): Promise<Omit<Listener, 'close'>> {
  const started = monotonicMs();
  const { sockets, bound } = await listenDatagram(endpoint);
  const local = formatEndpoint(bound);
  const peers = new Map<string, Peer>();
  let last: Peer | undefined;
  const totals = { peers: 0, bytesSent: 0, bytesReceived: 0, dropped: 0 };
  const { output } = options;
  let prompt: LinePrompt | undefined;
  // Bytes given up front are sent once, to the first peer, like a stream's first chunk.
  const input =
    typeof options.input === 'string' || Buffer.isBuffer(options.input)
      ? Readable.from([Buffer.from(options.input)])
      : options.lineMode
        ? undefined
        : options.input;
  let finish: (result: ListenResult) => void = () => {};
  const done = new Promise<ListenResult>((resolve) => {
    finish = resolve;
  });

  const event = (type: 'data-in' | 'data-out', peer: Peer, data: Buffer) => {
    if (!channels[type].hasSubscribers) return;
    publish({
      type,
      id: 0,
      service: 'listen',
      transport: 'udp',
      local,
      remote: peer.label,
      bytes: data.length,
      data,
    });
  };
  const sendTo = (peer: Peer, data: Buffer) => {
    for (let i = 0; i < data.length || i === 0; i += MAX_DATAGRAM_PAYLOAD) {
      const piece = data.subarray(i, i + MAX_DATAGRAM_PAYLOAD);
      peer.socket.send(piece, peer.port, peer.address);
      totals.bytesSent += piece.length;
      event('data-out', peer, piece);
    }
  };
  const send = (data: Buffer) => {
    if (options.udpReplyTo === 'all') {
      const horizon = Date.now() - DEFAULT_UDP_PEER_TTL_MS;
      for (const peer of peers.values()) if (peer.seen >= horizon) sendTo(peer, data);
    } else if (last) sendTo(last, data);
  };

  const onMessage = (socket: dgram.Socket) => (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    const key = formatHostPort(rinfo.address, rinfo.port);
    let peer = peers.get(key);
    if (peer)
      peers.delete(key); // re-inserted below: the Map's order is recency
    else {
      peer = { socket, address: rinfo.address, port: rinfo.port, label: key, seen: 0 };
      totals.peers++;
      if (prompt) prompt.print(`(datagram from new peer ${key})\n`);
      else options.onNotice?.(`datagram from new peer ${key}`);
      if (peers.size >= DEFAULT_UDP_PEERS) peers.delete(peers.keys().next().value as string);
    }
    peer.seen = Date.now();
    peers.set(key, peer);
    const firstPeer = last === undefined;
    last = peer;
    totals.bytesReceived += msg.length;
    event('data-in', peer, msg);
    if (prompt) {
      const text = new IncomingText((t) => prompt?.print(t), `[${key}] `);
      text.push(msg);
      text.flush();
    } else if (output) {
      if (output.writableLength > DEFAULT_UDP_OUTPUT_BACKLOG) totals.dropped++;
      else output.write(msg);
    }
    if (firstPeer) input?.resume();
  };
  for (const socket of sockets) {
    socket.on('message', onMessage(socket));
    socket.on('error', () => {}); // ICMP port unreachable from a peer that left: keep serving
  }

  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    prompt?.close();
    input?.pause();
    for (const socket of sockets) socket.close();
    if (totals.dropped > 0)
      options.onNotice?.(`${totals.dropped} datagrams dropped: the output was not keeping up`);
    finish({ ...totals, durationMs: monotonicMs() - started });
  };

  if (options.lineMode) {
    const eol = options.crlf ? '\r\n' : '\n';
    prompt = new LinePrompt(options.lineMode, {
      onLine: (line) => {
        if (last) send(Buffer.from(line + eol));
        else prompt?.print('(no peer yet: nothing sent; a peer must send first)\n');
      },
      onEnd: stop,
      onInterrupt: stop,
    });
  } else if (input) {
    pipeToPeers(input, options.crlf ? crlfConverter() : undefined, send);
  }
  if (options.signal?.aborted) stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  return { bound, address: local, done };
}

/** Input chunks become datagrams; reading starts once a first peer is known. */
function pipeToPeers(
  input: Readable,
  toCrlf: ((chunk: Buffer) => Buffer) | undefined,
  send: (data: Buffer) => void,
): void {
  input.pause();
  input.on('data', (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    send(toCrlf ? toCrlf(bytes) : bytes);
  });
}
