// stamp: each message comes back prefixed with the time, `[Wed Dec 29 19:14:15 2017] hello`,
// keeping its line ending.

import { messageService } from './message-service.js';
import type { ServiceDefinition } from './service.js';
import { formatTime } from './time-format.js';

export const stamp: ServiceDefinition = {
  name: 'stamp',
  summary: 'sends back each line prefixed with the time, like [Wed Dec 29 19:14:15 2017] hello',
  spec: 'wirecat',
  defaultPort: 10102,
  udp: true,
  create: (settings) =>
    messageService('stamp', settings, (content, ending) =>
      Buffer.concat([
        Buffer.from(`[${formatTime(settings.now(), settings.timeFormat)}] `),
        content,
        ending,
      ]),
    ),
};
