// echo (RFC 862): every byte received is sent back, over TCP and UDP.

import type { StreamHandler } from '../transport/conn.js';
import type { ServiceDefinition } from './service.js';

// Stateless, so one handler serves every connection. The chunk may live in the shared read
// buffer, so it is copied before it is queued for sending.
const handler: StreamHandler = {
  data(conn, chunk) {
    conn.write(conn.keep(chunk));
  },
};

export const echo: ServiceDefinition = {
  name: 'echo',
  summary: 'sends back every byte it receives',
  spec: 'RFC 862',
  defaultPort: 10007,
  udp: true,
  create: () => ({
    name: 'echo',
    openStream: () => handler,
    answerDatagram: (request) => request,
  }),
};
