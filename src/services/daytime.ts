// daytime (RFC 867): the current date and time as one human-readable line, then close.

import { oneShotService } from './one-shot.js';
import type { ServiceDefinition } from './service.js';
import { formatTime } from './time-format.js';

export const daytime: ServiceDefinition = {
  name: 'daytime',
  summary: 'sends the date and time as text (`--time-format iso` for RFC 3339), then closes',
  spec: 'RFC 867',
  defaultPort: 10013,
  udp: true,
  create: (settings) => {
    // The text changes once a second; at tens of thousands of connections a second,
    // formatting it for each one is measurable work.
    let second = Number.NaN;
    let line = Buffer.alloc(0);
    return oneShotService('daytime', () => {
      const now = settings.now();
      const s = Math.floor(now.getTime() / 1000);
      if (s !== second) {
        second = s;
        line = Buffer.from(`${formatTime(now, settings.timeFormat)}\r\n`);
      }
      return line;
    });
  },
};
