// What `wirecat serve` should run: service specs from the command line (`echo`,
// `echo=tcp://0.0.0.0:7`) or a JSON config file, turned into Host bindings.

import { readFileSync } from 'node:fs';
import { WirecatError } from '../errors.js';
import type { Limits } from '../limits.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { CLASSIC_SERVICES, type ServiceName, services } from '../services/index.js';
import type { ServiceDefinition } from '../services/service.js';
import { type Endpoint, formatHostPort, parseEndpoint } from '../transport/endpoint.js';
import { DEFAULT_LISTEN_HOST } from '../transport/listen.js';
import type { Binding } from './host.js';

function serviceNamed(name: string, context: string): ServiceName {
  if (!(name in services)) {
    throw new WirecatError(
      'WIRECAT_UNKNOWN_SERVICE',
      `${context}unknown service "${name}" (known: ${CLASSIC_SERVICES.join(', ')})`,
    );
  }
  return name as ServiceName;
}

/**
 * Bindings for one spec: `NAME` runs the service on its default port over TCP and, where it
 * has one, UDP, on `host`; `NAME=ENDPOINT` runs it on exactly that endpoint (tcp unless the
 * endpoint says udp://, unix: or tls://).
 */
export function parseServiceSpec(
  spec: string,
  host = DEFAULT_LISTEN_HOST,
  context = '',
): Binding[] {
  const eq = spec.indexOf('=');
  if (eq < 0) {
    const name = serviceNamed(spec.trim(), context);
    const { defaultPort, udp, tcp: hasTcp } = services[name] as ServiceDefinition;
    const tcp = parseEndpoint(`tcp://${formatHostPort(host, defaultPort)}`);
    const bindings: Binding[] = hasTcp === false ? [] : [{ service: name, endpoint: tcp }];
    if (udp) bindings.push({ service: name, endpoint: { ...tcp, transport: 'udp' } as Endpoint });
    return bindings;
  }
  const name = serviceNamed(spec.slice(0, eq).trim(), context);
  const udpOnly = (services[name] as ServiceDefinition).tcp === false;
  let endpoint: Endpoint;
  try {
    endpoint = parseEndpoint(spec.slice(eq + 1).trim(), udpOnly ? 'udp' : 'tcp');
  } catch (err) {
    // In a config file the message must say which file and entry hold the bad endpoint.
    if (!context || !(err instanceof WirecatError)) throw err;
    throw new WirecatError(err.code, `${context}${err.message}`);
  }
  if (udpOnly && endpoint.transport !== 'udp')
    throw new WirecatError(
      'WIRECAT_UNSUPPORTED_TRANSPORT',
      `${context}${name} runs over UDP only; write ${name}=udp://HOST:PORT`,
    );
  if (endpoint.transport !== 'unix' && endpoint.host === undefined)
    (endpoint as { host?: string }).host = host;
  return [{ service: name, endpoint }];
}

/** Bindings for many specs; no specs means every classic service on its default ports. */
export function parseServiceSpecs(specs: readonly string[], host = DEFAULT_LISTEN_HOST): Binding[] {
  const list = specs.length > 0 ? specs : CLASSIC_SERVICES;
  return list.flatMap((spec) => parseServiceSpec(spec, host));
}

/** What a config file holds. */
export interface ServeConfig {
  /** Address for services given by name only. Default 127.0.0.1. */
  host?: string;
  /** Service specs: "echo", "echo=udp://127.0.0.1:7007", or { "service": "echo", "endpoint": "…" }. */
  services: (string | { service: string; endpoint?: string })[];
  limits?: Partial<Limits>;
  /** A quotes file for qotd, relative to the config file. */
  quotes?: string;
  timeFormat?: 'text' | 'iso';
  ackText?: string;
}

function configError(path: string, why: string): WirecatError {
  return new WirecatError('WIRECAT_BAD_CONFIG', `${path}: ${why}`);
}

/**
 * Read and check a JSON config file. Unknown keys are errors (a typo must not silently
 * leave a limit at its default).
 *
 * @example
 * // services.json
 * { "host": "127.0.0.1",
 *   "services": ["echo", "daytime=udp://127.0.0.1:1313", { "service": "time", "endpoint": "tcp://127.0.0.1:3737" }],
 *   "limits": { "maxConnections": 100, "idleTimeoutMs": 30000 } }
 */
export function loadConfig(path: string): { bindings: Binding[]; config: ServeConfig } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw configError(path, e.code === 'ENOENT' ? 'no such file' : `not valid JSON (${e.message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw configError(path, 'must hold a JSON object');
  const config = raw as Record<string, unknown>;
  const known = new Set(['host', 'services', 'limits', 'quotes', 'timeFormat', 'ackText']);
  for (const key of Object.keys(config))
    if (!known.has(key))
      throw configError(path, `unknown key "${key}" (known: ${[...known].join(', ')})`);
  if (config.host !== undefined && typeof config.host !== 'string')
    throw configError(path, '"host" must be a string');
  if (!Array.isArray(config.services) || config.services.length === 0)
    throw configError(path, '"services" must be a non-empty array');
  if (config.limits !== undefined) checkLimits(path, config.limits);
  if (
    config.timeFormat !== undefined &&
    config.timeFormat !== 'text' &&
    config.timeFormat !== 'iso'
  ) {
    throw configError(path, '"timeFormat" must be "text" or "iso"');
  }
  const host = (config.host as string | undefined) ?? DEFAULT_LISTEN_HOST;
  const bindings = config.services.flatMap((entry: unknown, i: number) => {
    const where = `${path}: services[${i}]: `;
    if (typeof entry === 'string') return parseServiceSpec(entry, host, where);
    if (
      typeof entry === 'object' &&
      entry !== null &&
      typeof (entry as { service?: unknown }).service === 'string'
    ) {
      const { service, endpoint } = entry as { service: string; endpoint?: unknown };
      if (endpoint !== undefined && typeof endpoint !== 'string')
        throw configError(path, `services[${i}].endpoint must be a string`);
      return parseServiceSpec(endpoint ? `${service}=${endpoint}` : service, host, where);
    }
    throw configError(
      path,
      `services[${i}] must be a string like "echo" or an object like { "service": "echo", "endpoint": "tcp://127.0.0.1:7007" }`,
    );
  });
  return { bindings, config: config as unknown as ServeConfig };
}

function checkLimits(path: string, limits: unknown): void {
  if (typeof limits !== 'object' || limits === null)
    throw configError(path, '"limits" must be an object');
  for (const [key, value] of Object.entries(limits)) {
    if (!(key in DEFAULT_LIMITS))
      throw configError(
        path,
        `unknown limit "${key}" (known: ${Object.keys(DEFAULT_LIMITS).join(', ')})`,
      );
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw configError(path, `limit "${key}" must be a number ≥ 0`);
  }
}
