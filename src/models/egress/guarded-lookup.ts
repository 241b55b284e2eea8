/**
 * The DNS step of every connection to a model, with the egress check inside it. Given to the
 * socket as its `lookup` option, so the addresses checked are exactly the addresses connected
 * to: there is no window between "check" and "connect" for DNS rebinding to slip a metadata or
 * internal address in. Every resolved address must pass, not just the first: a resolver that
 * answers [public-allowed, 169.254.169.254] is refused outright, since the socket may try any.
 *
 * Node does not call `lookup` for IP-literal hosts; checkEndpoint() and the adapter check those.
 */
import { promises as dns } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { WardError } from '../../shared/ward-error.js';
import { egressVerdict } from './egress-rule.js';
import type { EgressRule } from './egress-rule.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export type Resolve = (hostname: string) => Promise<ResolvedAddress[]>;

/** The signature of `net.connect`'s `lookup` option (Node passes `all: true` when it races families). */
export type LookupFunction = (
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/** The system resolver (getaddrinfo, so /etc/hosts counts), every address, in the resolver's order. */
export const systemResolve: Resolve = async (hostname) => {
  const answers = await dns.lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

function wantedFamily(options: LookupOptions): 4 | 6 | undefined {
  const family: unknown = options.family;
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return undefined;
}

function resolveFailed(rule: EgressRule, cause?: unknown): WardError {
  return new WardError('egress.resolve_failed', `model ${rule.modelId}: the endpoint host did not resolve`, {
    status: 502,
    cause,
    extra: { modelId: rule.modelId },
  });
}

export function guardedLookup(rule: EgressRule, resolve: Resolve = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        if (addresses.length === 0) {
          callback(resolveFailed(rule), '');
          return;
        }
        for (const { address } of addresses) {
          const verdict = egressVerdict(rule, address);
          if (!verdict.allowed) {
            callback(new WardError(verdict.code, verdict.reason, { status: 502, extra: { modelId: rule.modelId } }), '');
            return;
          }
        }
        const family = wantedFamily(options);
        const usable = family === undefined ? addresses : addresses.filter((a) => a.family === family);
        const first = usable[0];
        if (first === undefined) {
          callback(resolveFailed(rule), '');
          return;
        }
        if (options.all === true) callback(null, usable.map((a) => ({ address: a.address, family: a.family })));
        else callback(null, first.address, first.family);
      },
      (error: unknown) => callback(resolveFailed(rule, error), ''),
    );
  };
}
