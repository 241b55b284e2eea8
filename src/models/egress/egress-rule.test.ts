import { describe, expect, it } from 'vitest';
import type { TrustZone } from '../trust-zone.js';
import { checkEndpoint, egressVerdict } from './egress-rule.js';
import type { EgressRule } from './egress-rule.js';

function rule(zone: TrustZone, protocol: 'http:' | 'https:', allowAddresses: string[] = []): EgressRule {
  return { modelId: 'm1', zone, protocol, allowAddresses };
}

describe('egressVerdict', () => {
  const table: [string, EgressRule, string, boolean][] = [
    ['loopback, on-prem, http', rule('on-prem', 'http:'), '127.0.0.1', true],
    ['loopback via IPv4-mapped', rule('on-prem', 'http:'), '::ffff:127.0.0.1', true],
    ['private, external, http', rule('external', 'http:'), '10.0.0.5', true],
    ['unique-local, baa', rule('baa', 'https:'), 'fd00::1', true],
    ['metadata, any zone', rule('external', 'https:', ['0.0.0.0/0']), '169.254.169.254', false],
    ['metadata via IPv4-mapped', rule('on-prem', 'http:'), '::ffff:169.254.169.254', false],
    ['metadata even when declared', rule('baa', 'https:', ['169.254.169.254']), '169.254.169.254', false],
    ['unspecified', rule('on-prem', 'http:'), '0.0.0.0', false],
    ['public, baa, https, declared IP', rule('baa', 'https:', ['203.0.113.7']), '203.0.113.7', true],
    ['public, external, https, declared CIDR', rule('external', 'https:', ['203.0.113.0/24']), '203.0.113.99', true],
    ['public IPv4-mapped, declared as IPv4', rule('external', 'https:', ['203.0.113.0/24']), '::ffff:203.0.113.99', true],
    ['public, declared as IPv4-mapped CIDR', rule('external', 'https:', ['::ffff:203.0.113.0/120']), '203.0.113.99', true],
    ['public IPv6, declared CIDR', rule('baa', 'https:', ['2606:4700::/32']), '2606:4700::1111', true],
    ['public, not declared', rule('baa', 'https:'), '203.0.113.7', false],
    ['public, outside the declared CIDR', rule('baa', 'https:', ['203.0.113.0/25']), '203.0.113.200', false],
    ['public, declared, but http', rule('baa', 'http:', ['203.0.113.7']), '203.0.113.7', false],
    ['public, declared, but on-prem', rule('on-prem', 'https:', ['203.0.113.7']), '203.0.113.7', false],
    ['unparseable', rule('on-prem', 'http:'), 'not-an-ip', false],
  ];

  it.each(table)('%s', (_label, r, address, allowed) => {
    const verdict = egressVerdict(r, address);
    expect(verdict.allowed).toBe(allowed);
    if (!verdict.allowed) {
      expect(verdict.code).toBe('egress.address_refused');
      expect(verdict.reason).toContain('m1');
      expect(verdict.reason).not.toContain(address);
    }
  });
});

describe('checkEndpoint', () => {
  it('returns the rule for acceptable endpoints', () => {
    expect(checkEndpoint('m1', 'http://127.0.0.1:8000/v1', 'on-prem', [])).toEqual(rule('on-prem', 'http:'));
    expect(checkEndpoint('m1', 'https://api.example.test/v1', 'baa', ['203.0.113.0/24'])).toEqual(
      rule('baa', 'https:', ['203.0.113.0/24']),
    );
    // A DNS name is checked per connection, not at start.
    expect(checkEndpoint('m1', 'http://vllm.internal:8000/v1', 'on-prem', []).protocol).toBe('http:');
    expect(checkEndpoint('m1', 'https://[2606:4700::1111]/v1', 'external', ['2606:4700::/32']).protocol).toBe('https:');
  });

  const bad: [string, string, TrustZone, string[]][] = [
    ['not a URL', 'not a url', 'on-prem', []],
    ['ftp', 'ftp://127.0.0.1/v1', 'on-prem', []],
    ['file', 'file:///etc/passwd', 'on-prem', []],
    ['userinfo', 'http://user:secret@127.0.0.1/v1', 'on-prem', []],
    ['user only', 'http://user@127.0.0.1/v1', 'on-prem', []],
    ['query', 'http://127.0.0.1/v1?x=1', 'on-prem', []],
    ['empty query', 'http://127.0.0.1/v1?', 'on-prem', []],
    ['fragment', 'http://127.0.0.1/v1#x', 'on-prem', []],
    ['malformed allow entry', 'https://api.example.test/v1', 'baa', ['not-an-ip']],
    ['malformed CIDR prefix', 'https://api.example.test/v1', 'baa', ['203.0.113.0/33']],
    ['legacy IPv4 syntax in allow entry', 'https://api.example.test/v1', 'baa', ['0x7f.1']],
    ['metadata literal', 'http://169.254.169.254/latest', 'on-prem', []],
    ['metadata as IPv4-mapped literal', 'http://[::ffff:169.254.169.254]/v1', 'on-prem', []],
    ['metadata as hex legacy literal (URL normalizes it)', 'http://0xa9fea9fe/v1', 'on-prem', []],
    ['unspecified literal', 'http://0.0.0.0:8000/v1', 'on-prem', []],
    ['public literal, on-prem', 'https://203.0.113.7/v1', 'on-prem', ['203.0.113.7']],
    ['public literal over http', 'http://203.0.113.7/v1', 'baa', ['203.0.113.7']],
    ['public literal not declared', 'https://203.0.113.7/v1', 'external', []],
  ];

  it.each(bad)('refuses %s', (_label, endpoint, zone, allow) => {
    let thrown: unknown;
    try {
      checkEndpoint('m1', endpoint, zone, allow);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toMatchObject({ code: 'config.model_endpoint', status: 500, extra: { modelId: 'm1' } });
    expect((thrown as Error).message).toContain('m1');
    expect((thrown as Error).message).not.toContain('secret');
  });
});
