// The registry of built-in services, by name.

import { ack } from './ack.js';
import { chargen } from './chargen.js';
import { chat } from './chat/index.js';
import { daytime } from './daytime.js';
import { discard } from './discard.js';
import { echo } from './echo.js';
import { files } from './files.js';
import { httpFiles } from './http.js';
import { qotd } from './qotd.js';
import { reverse } from './reverse.js';
import type { ServiceDefinition } from './service.js';
import { stamp } from './stamp.js';
import { tftp } from './tftp/service.js';
import { time } from './time.js';

/** Every built-in service, by name, in the order `wirecat serve` lists them. */
export const services = {
  echo,
  discard,
  chargen,
  qotd,
  daytime,
  time,
  reverse,
  ack,
  stamp,
  chat,
  files,
  http: httpFiles,
  tftp,
} as const satisfies Record<string, ServiceDefinition>;

/** The name of a built-in service. */
export type ServiceName = keyof typeof services;

/** The built-in services `wirecat serve` starts when given none. */
export const CLASSIC_SERVICES = (Object.keys(services) as ServiceName[]).filter(
  (name) => !(services[name] as ServiceDefinition).optIn,
);

export type { Service, ServiceDefinition, ServiceSettings } from './service.js';
