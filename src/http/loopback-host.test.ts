/**
 * Only loopback may be served in clear (45 CFR 164.312(e)(1)): 127.0.0.0/8, ::1 and their
 * IPv4-mapped and expanded spellings count; the wildcard addresses, private and public
 * addresses do not; a host name counts only when every address it resolves to is loopback,
 * and a name that does not resolve is refused.
 */
import { describe, expect, it } from 'vitest';
import { isLoopbackAddress, isLoopbackHost } from './loopback-host.js';
import type { ResolveAll } from './loopback-host.js';

const resolver = (table: Record<string, string[]>): ResolveAll => async (host) => {
  const found = table[host];
  if (found === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address }));
};

describe('isLoopbackHost', () => {
  it('accepts loopback addresses in every spelling', async () => {
    for (const a of ['127.0.0.1', '127.0.1.1', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::ffff:7f00:1']) {
      expect(isLoopbackAddress(a), a).toBe(true);
      expect(await isLoopbackHost(a, resolver({})), a).toBe(true);
    }
  });

  it('refuses the wildcard addresses and every other address', async () => {
    for (const a of ['0.0.0.0', '::', '192.0.2.2', '10.0.0.1', 'fd00::2', 'fe80::1', '::ffff:192.0.2.2', '128.0.0.1', '::2']) {
      expect(isLoopbackAddress(a), a).toBe(false);
      expect(await isLoopbackHost(a, resolver({})), a).toBe(false);
    }
  });

  it('accepts a name only when all of its addresses are loopback; unresolvable names are refused', async () => {
    const dns = resolver({
      localhost: ['127.0.0.1', '::1'],
      'ward.internal': ['192.0.2.10'],
      'split.example': ['127.0.0.1', '192.0.2.10'],
      empty: [],
    });
    expect(await isLoopbackHost('localhost', dns)).toBe(true);
    expect(await isLoopbackHost('ward.internal', dns)).toBe(false);
    expect(await isLoopbackHost('split.example', dns)).toBe(false);
    expect(await isLoopbackHost('empty', dns)).toBe(false);
    expect(await isLoopbackHost('no-such-host.invalid', dns)).toBe(false);
    expect(isLoopbackAddress('localhost')).toBe(false);
  });

  it('resolves through the system resolver by default (localhost is loopback here)', async () => {
    expect(await isLoopbackHost('localhost')).toBe(true);
    expect(await isLoopbackHost('no-such-host.invalid')).toBe(false);
  });
});
