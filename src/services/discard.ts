// discard (RFC 863): reads and throws away everything; never answers, over TCP and UDP.

import type { StreamHandler } from '../transport/conn.js';
import type { ServiceDefinition } from './service.js';

const handler: StreamHandler = {};

export const discard: ServiceDefinition = {
  name: 'discard',
  summary: 'reads and throws away everything, answers nothing',
  spec: 'RFC 863',
  defaultPort: 10009,
  udp: true,
  create: () => ({
    name: 'discard',
    openStream: () => handler,
    answerDatagram: () => undefined,
  }),
};
