// chat: a multi-user chat room usable with plain nc or telnet as well as `wirecat connect`:
// nicknames, /nick /who /me /msg /quit /help, control characters neutralised, per-client
// flood control, line-length cap and bounded output queue (options.ts has the numbers).

import type { Service, ServiceDefinition } from '../service.js';
import { runLine } from './commands.js';
import { Member } from './member.js';
import { type ChatLimits, DEFAULT_CHAT_LIMITS } from './options.js';
import { Room } from './room.js';
import { sanitizeText } from './sanitize.js';

export {
  type ChatLimits,
  type ChatOperator,
  type ChatOptions,
  DEFAULT_CHAT_LIMITS,
} from './options.js';

export const chat: ServiceDefinition = {
  name: 'chat',
  summary:
    'a chat room for nc, telnet and wirecat connect: nicknames, /who /me /msg, flood control',
  spec: 'wirecat',
  defaultPort: 10023,
  udp: false,
  create(settings): Service {
    const { operator, ...limits } = settings.chat ?? {};
    const defined = Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
    const room = new Room({ ...DEFAULT_CHAT_LIMITS, ...defined } as ChatLimits, operator);
    const seat = room.operator;
    if (operator && seat) {
      operator.attach((text) => {
        const line = sanitizeText(text).trim();
        if (line !== '' && line !== '/quit') runLine(room, seat, line);
      });
    }
    return {
      name: 'chat',
      openStream: (conn) =>
        new Member(room, conn, settings.limits.maxBufferedBytes, settings.limits.requestTimeoutMs),
    };
  },
};
