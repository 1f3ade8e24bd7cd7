// `serve`: the library call behind `wirecat serve` — start services on endpoints in a Host.

import { parseServiceSpec, parseServiceSpecs } from './bindings.js';
import { type Binding, Host, type HostOptions } from './host.js';

/** Options for `serve`: Host options plus the address for services given by name. */
export interface ServeOptions extends HostOptions {
  /** Where services named without an endpoint listen. Default 127.0.0.1 (loopback only). */
  host?: string;
}

/**
 * Start services and resolve with the running Host once all listen (or reject, with
 * nothing left listening, when one cannot).
 *
 * @example
 * const host = await serve(['echo=tcp://127.0.0.1:0', 'time=udp://127.0.0.1:0']);
 * for (const l of host.listeners) console.log(l.service, l.address);
 * await host.close();
 * @example
 * await serve(); // every classic service on its default port, TCP and UDP, loopback only
 */
export async function serve(
  what: readonly (string | Binding)[] = [],
  options: ServeOptions = {},
): Promise<Host> {
  const bindings =
    what.length === 0
      ? parseServiceSpecs([], options.host)
      : what.flatMap((item) =>
          typeof item === 'string' ? parseServiceSpec(item, options.host) : [item],
        );
  const host = new Host(options);
  try {
    for (const binding of bindings) await host.listen(binding);
  } catch (err) {
    await host.close(0);
    throw err;
  }
  return host;
}
