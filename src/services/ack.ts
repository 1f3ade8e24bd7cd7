// ack: each message is answered with a fixed text (`message received` unless configured),
// ending as the message ended, or with CRLF for a message flushed without an ending.

import { messageService } from './message-service.js';
import type { ServiceDefinition } from './service.js';

export const DEFAULT_ACK_TEXT = 'message received';

export const ack: ServiceDefinition = {
  name: 'ack',
  summary: `answers each message with "${DEFAULT_ACK_TEXT}" (text configurable with --ack-text)`,
  spec: 'wirecat',
  defaultPort: 10101,
  udp: true,
  create: (settings) => {
    const text = settings.ackText ?? DEFAULT_ACK_TEXT;
    const crlf = Buffer.from(`${text}\r\n`);
    const lf = Buffer.from(`${text}\n`);
    return messageService('ack', settings, (_content, ending) => (ending.length === 1 ? lf : crlf));
  },
};
