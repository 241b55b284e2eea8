/**
 * Which addresses a model's endpoint may reach (DESIGN "Trust zones": egress is deny-by-default,
 * with no SSRF through configuration, request fields, redirects or DNS names that resolve
 * elsewhere). Pure: the rule is checked once at start on the endpoint URL and again, by
 * guarded-lookup.ts, on every address a connection actually goes to.
 *
 * - forbidden addresses (link-local metadata services, multicast, ...) are refused always;
 * - loopback and private addresses are inside the walls: allowed for every zone;
 * - a public address is allowed only for a `baa` or `external` model, over TLS (45 CFR
 *   164.312(e)(1) transmission security), and only when the model declares it in
 *   `allowAddresses`. An `on-prem` model by definition never leaves the walls.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { WardError } from '../../shared/ward-error.js';
import type { TrustZone } from '../trust-zone.js';
import { classifyAddress } from './address-class.js';

export interface EgressRule {
  readonly modelId: string;
  readonly zone: TrustZone;
  readonly protocol: 'http:' | 'https:';
  /** IPs or CIDRs (already checked by `checkEndpoint`) a public endpoint may resolve to. */
  readonly allowAddresses: readonly string[];
}

export type EgressVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly code: 'egress.address_refused'; readonly reason: string };

type Network = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Parse an allowAddresses entry (an IP is a /32 or /128); undefined when malformed. */
function parseNetwork(entry: string): Network | undefined {
  try {
    const slash = entry.indexOf('/');
    // Node's own IP syntax for the address part: ipaddr.js alone also takes legacy forms (`0x7f.1`).
    if (isIP(slash < 0 ? entry : entry.slice(0, slash)) === 0) return undefined;
    if (slash >= 0) {
      if (!/^\d{1,3}$/.test(entry.slice(slash + 1))) return undefined;
      const [base, bits] = ipaddr.parseCIDR(entry);
      // Compare IPv4-mapped entries as IPv4, the same way addresses are compared.
      if (base.kind() === 'ipv6' && (base as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
        return [(base as ipaddr.IPv6).toIPv4Address(), bits - 96];
      }
      return [base, bits];
    }
    const address = ipaddr.process(entry);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return undefined;
  }
}

function isDeclared(address: string, allowAddresses: readonly string[]): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return false;
  }
  return allowAddresses.some((entry) => {
    const network = parseNetwork(entry);
    return network !== undefined && network[0].kind() === parsed.kind() && parsed.match(network);
  });
}

function refused(reason: string): EgressVerdict {
  return { allowed: false, code: 'egress.address_refused', reason };
}

/** May a connection for this model go to this address? Reasons name the model and the address class only. */
export function egressVerdict(rule: EgressRule, address: string): EgressVerdict {
  const kind = classifyAddress(address);
  const model = `model ${rule.modelId}`;
  switch (kind) {
    case 'forbidden':
      return refused(`${model}: the endpoint address is in a forbidden range (link-local, multicast, reserved or unparseable)`);
    case 'loopback':
    case 'private':
      return { allowed: true };
    case 'public':
      if (rule.zone === 'on-prem') return refused(`${model}: an on-prem model may not reach a public address`);
      if (rule.protocol !== 'https:') return refused(`${model}: a public address is reachable over https only`);
      if (!isDeclared(address, rule.allowAddresses)) {
        return refused(`${model}: the endpoint resolved to a public address not declared in allowAddresses`);
      }
      return { allowed: true };
  }
}

/** The host of a URL as an IP literal (IPv6 without brackets), or undefined for a DNS name. */
export function ipLiteralHost(url: URL): string | undefined {
  const host = url.hostname.startsWith('[') && url.hostname.endsWith(']') ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(host) === 0 ? undefined : host;
}

function endpointError(modelId: string, problem: string): WardError {
  return new WardError('config.model_endpoint', `model ${modelId}: ${problem}`, { status: 500, extra: { modelId } });
}

/**
 * Check a model's endpoint at start and return its egress rule; throws `config.model_endpoint`
 * naming the model. An IP-literal host is checked here because Node's `lookup` hook (where
 * guarded-lookup.ts checks DNS names) is never called for IP literals; the adapter checks it
 * again before each request.
 */
export function checkEndpoint(
  modelId: string,
  endpoint: string,
  zone: TrustZone,
  allowAddresses: readonly string[],
): EgressRule {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw endpointError(modelId, 'the endpoint is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw endpointError(modelId, 'the endpoint must be an http or https URL');
  }
  // Credentials belong in apiKeyEnv, never in a URL that may be logged.
  if (url.username !== '' || url.password !== '') throw endpointError(modelId, 'the endpoint must not carry credentials');
  if (url.search !== '' || url.hash !== '' || endpoint.includes('?') || endpoint.includes('#')) {
    throw endpointError(modelId, 'the endpoint must not have a query or fragment');
  }
  const malformed = allowAddresses.findIndex((entry) => parseNetwork(entry) === undefined);
  if (malformed >= 0) throw endpointError(modelId, `allowAddresses[${malformed}] is not an IP address or CIDR`);

  const rule: EgressRule = { modelId, zone, protocol: url.protocol, allowAddresses: [...allowAddresses] };
  const literal = ipLiteralHost(url);
  if (literal !== undefined) {
    const verdict = egressVerdict(rule, literal);
    if (!verdict.allowed) throw new WardError('config.model_endpoint', verdict.reason, { status: 500, extra: { modelId } });
  }
  return rule;
}
