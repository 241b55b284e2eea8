/**
 * Whether a listen address keeps traffic on this machine. Plain HTTP exposes credentials and
 * PHI to anyone on the path (45 CFR 164.312(e)(1)), so without TLS Ward listens only on
 * loopback: 127.0.0.0/8, ::1 and their IPv4-mapped forms (RFC 5735, RFC 4291 section 2.5.3).
 * The wildcard addresses (0.0.0.0, ::) are every interface, not loopback. A host name counts
 * only when every address it resolves to is loopback (the listener binds those addresses).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export type ResolveAll = (host: string) => Promise<readonly { address: string }[]>;

const resolveAll: ResolveAll = (host) => dnsLookup(host, { all: true });

export async function isLoopbackHost(host: string, resolve: ResolveAll = resolveAll): Promise<boolean> {
  if (isIP(host) !== 0) return isLoopbackAddress(host);
  try {
    const addresses = await resolve(host);
    return addresses.length > 0 && addresses.every((a) => isLoopbackAddress(a.address));
  } catch {
    // A name that does not resolve cannot be shown to be loopback: refuse (fail closed).
    return false;
  }
}
