import { describe, expect, it } from 'vitest';
import { classifyAddress } from './address-class.js';
import type { AddressClass } from './address-class.js';

const table: [string, AddressClass][] = [
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['::1', 'loopback'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['10.0.0.1', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.10.20', 'private'],
  ['::ffff:10.1.2.3', 'private'],
  ['fd00::1', 'private'],
  ['fc00::1', 'private'],
  ['172.32.0.1', 'public'],
  ['8.8.8.8', 'public'],
  ['203.0.113.7', 'public'], // documentation (TEST-NET-3): public for tests
  ['198.18.0.1', 'public'], // benchmarking
  ['2606:4700:4700::1111', 'public'],
  ['2001:db8::1', 'public'],
  ['0.0.0.0', 'forbidden'],
  ['0.1.2.3', 'forbidden'],
  ['::', 'forbidden'],
  ['169.254.169.254', 'forbidden'],
  ['::ffff:169.254.169.254', 'forbidden'],
  ['::ffff:a9fe:a9fe', 'forbidden'],
  ['fe80::1', 'forbidden'],
  ['fe80::1%eth0', 'forbidden'],
  ['fd00::1%eth0', 'forbidden'],
  ['fd00:ec2::254', 'private'], // AWS's IPv6 metadata lives in unique-local space: inside the walls, like 10/8
  ['224.0.0.1', 'forbidden'],
  ['ff02::1', 'forbidden'],
  ['255.255.255.255', 'forbidden'],
  ['240.0.0.1', 'forbidden'],
  ['100.64.0.1', 'forbidden'],
  ['100.127.255.255', 'forbidden'],
  ['192.0.0.170', 'forbidden'],
  ['2002:a9fe:a9fe::1', 'forbidden'], // 6to4 wrapping 169.254.169.254
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'forbidden'], // Teredo
  ['64:ff9b::a9fe:a9fe', 'forbidden'], // NAT64
  ['::7f00:1', 'forbidden'], // IPv4-compatible (deprecated)
  ['::ffff:0:7f00:1', 'forbidden'], // IPv4-translated
  ['fec0::1', 'forbidden'],
  ['100::1', 'forbidden'],
  ['4000::1', 'forbidden'], // outside global unicast 2000::/3
  ['127.1', 'forbidden'],
  ['0x7f.0.0.1', 'forbidden'],
  ['0177.0.0.1', 'forbidden'],
  ['localhost', 'forbidden'],
  ['', 'forbidden'],
  ['10.0.0.1/8', 'forbidden'],
];

describe('classifyAddress', () => {
  it.each(table)('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });
});
