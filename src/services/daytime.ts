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
  create: (settings) =>
    oneShotService('daytime', () =>
      Buffer.from(`${formatTime(settings.now(), settings.timeFormat)}\r\n`),
    ),
};
