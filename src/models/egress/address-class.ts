/**
 * What kind of network an IP address belongs to, for egress decisions (DESIGN "Trust zones":
 * egress is deny-by-default). Pure: no DNS, no sockets.
 *
 * - `loopback`, `private`: inside the organization's walls (RFC 1918, RFC 4193 unique-local).
 * - `public`: global unicast; reachable only when a model declares it (see egress-rule.ts).
 * - `forbidden`: never a model endpoint. Unspecified, link-local (cloud metadata services such
 *   as 169.254.169.254 live there), multicast, broadcast, reserved space, carrier-grade NAT
 *   (RFC 6598: another customer's network) and IPv6 forms that tunnel to an IPv4 address we
 *   cannot see (6to4 RFC 3056, Teredo RFC 4380, NAT64 RFC 6052/8215, IPv4-compatible and
 *   IPv4-translated RFC 6145): a check on the IPv6 form would say nothing about where the bytes go.
 *
 * IPv4-mapped IPv6 (`::ffff:a.b.c.d`, RFC 4291 2.5.5.2) reaches the embedded IPv4 address on a
 * dual-stack socket, so it is classified as that IPv4 address.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export type AddressClass = 'loopback' | 'private' | 'public' | 'forbidden';

type Range = readonly [string, number];

const V4_LOOPBACK: readonly Range[] = [['127.0.0.0', 8]];
const V4_PRIVATE: readonly Range[] = [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
];
/** Special-purpose space (RFC 6890 registry) that is never a model endpoint. */
const V4_FORBIDDEN: readonly Range[] = [
  ['0.0.0.0', 8], // "this network" / unspecified
  ['100.64.0.0', 10], // carrier-grade NAT, RFC 6598
  ['169.254.0.0', 16], // link-local, RFC 3927 (cloud metadata endpoints)
  ['192.0.0.0', 24], // IETF protocol assignments, RFC 6890
  ['192.88.99.0', 24], // 6to4 relay anycast, RFC 7526
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes 255.255.255.255 (broadcast)
];

const V6_PRIVATE: readonly Range[] = [['fc00::', 7]]; // unique-local, RFC 4193
/** Documentation space (RFC 3849, RFC 9637): treated as public, like IPv4's TEST-NETs. */
const V6_DOCUMENTATION: readonly Range[] = [
  ['2001:db8::', 32],
  ['3fff::', 20],
];
const V6_FORBIDDEN: readonly Range[] = [
  ['::', 96], // unspecified and IPv4-compatible (deprecated, RFC 4291 2.5.5.1)
  ['::ffff:0:0:0', 96], // IPv4-translated, RFC 6145
  ['64:ff9b::', 96], // NAT64 well-known prefix, RFC 6052
  ['64:ff9b:1::', 48], // NAT64 local-use, RFC 8215
  ['100::', 64], // discard-only, RFC 6666
  ['2001::', 23], // IETF protocol assignments, includes Teredo 2001::/32
  ['2002::', 16], // 6to4, RFC 3056
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local, deprecated by RFC 3879
  ['ff00::', 8], // multicast
];
/** Global unicast space (RFC 4291 2.4); anything outside it and not listed above is reserved. */
const V6_GLOBAL_UNICAST: Range = ['2000::', 3];

function inAny(address: ipaddr.IPv4 | ipaddr.IPv6, ranges: readonly Range[]): boolean {
  return ranges.some(([base, bits]) => {
    const network = ipaddr.parse(base);
    return network.kind() === address.kind() && address.match(network, bits);
  });
}

function classifyV4(address: ipaddr.IPv4): AddressClass {
  if (inAny(address, V4_LOOPBACK)) return 'loopback';
  if (inAny(address, V4_PRIVATE)) return 'private';
  if (inAny(address, V4_FORBIDDEN)) return 'forbidden';
  return 'public';
}

function classifyV6(address: ipaddr.IPv6): AddressClass {
  if (address.isIPv4MappedAddress()) return classifyV4(address.toIPv4Address());
  // A zone index ("fe80::1%eth0") only means something for link-local scope.
  if (address.zoneId !== undefined) return 'forbidden';
  if (address.range() === 'loopback') return 'loopback';
  if (inAny(address, V6_PRIVATE)) return 'private';
  if (inAny(address, V6_DOCUMENTATION)) return 'public';
  if (inAny(address, V6_FORBIDDEN)) return 'forbidden';
  return inAny(address, [V6_GLOBAL_UNICAST]) ? 'public' : 'forbidden';
}

/**
 * Classify an IP address in its usual text form. Anything Node would not itself accept as an
 * IP address (`127.1`, `0x7f.0.0.1`, leading zeros, a hostname) is `forbidden`: a value we do
 * not understand must not open a connection.
 */
export function classifyAddress(ip: string): AddressClass {
  const family = isIP(ip);
  if (family === 4) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(ip)) return 'forbidden';
    return classifyV4(ipaddr.IPv4.parse(ip));
  }
  if (family === 6) {
    if (!ipaddr.IPv6.isValid(ip)) return 'forbidden';
    return classifyV6(ipaddr.IPv6.parse(ip));
  }
  return 'forbidden';
}
