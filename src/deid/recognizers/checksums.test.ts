import { describe, expect, it } from 'vitest';
import { luhnValid } from '../luhn.js';
import { isValidDea } from './dea-recognizer.js';
import { isIpv4, isIpv6 } from './ip-recognizer.js';
import { isValidNpi } from './npi-recognizer.js';
import { isValidSsn } from './ssn-recognizer.js';
import { isValidVin } from './vin-recognizer.js';

describe('checksums and ranges', () => {
  it.each([
    ['79927398713', true],
    ['79927398710', false],
    ['0', true],
    ['12a4', false],
  ])('Luhn %s -> %s', (digits, ok) => expect(luhnValid(digits)).toBe(ok));

  it.each([
    ['1234567893', true], // CMS worked example: Luhn over 80840 + NPI
    ['1234567890', false], // wrong check digit
    ['1234567894', false],
    ['3234567893', false], // NPIs start with 1 or 2
    ['123456789', false],
  ])('NPI %s -> %s', (npi, ok) => expect(isValidNpi(npi)).toBe(ok));

  it.each([
    ['123-45-6789', true],
    ['000-12-3456', false], // area 000 never issued
    ['666-12-3456', false], // area 666 never issued
    ['912-34-5678', false], // 9xx: ITINs, never SSNs
    ['123-00-4567', false], // group 00
    ['123-45-0000', false], // serial 0000
  ])('SSN %s -> %s', (ssn, ok) => expect(isValidSsn(ssn.replace(/-/g, ''))).toBe(ok));

  it.each([
    ['1HGCM82633A004352', true],
    ['1HGCM82634A004352', false], // check digit (position 9) changed
    ['1HGCM82633A00435', false], // 16 characters
    ['1HGCM8263IA004352', false], // I never occurs in a VIN
    ['11111111111111111', true], // all-ones is self-consistent (check digit 1)
  ])('VIN %s -> %s', (vin, ok) => expect(isValidVin(vin)).toBe(ok));

  it.each([
    ['AB1234563', true], // (1+3+5) + 2*(2+4+6) = 33 -> 3
    ['AB1234564', false],
    ['IB1234563', false], // I is not a registrant type
    ['A91234563', true], // 9 as second character (business name)
  ])('DEA %s -> %s', (dea, ok) => expect(isValidDea(dea)).toBe(ok));

  it.each([
    ['192.168.1.20', true],
    ['256.1.1.1', false],
    ['01.2.3.4', false],
    ['1.2.3', false],
  ])('IPv4 %s -> %s', (ip, ok) => expect(isIpv4(ip)).toBe(ok));

  it.each([
    ['192.168.001.010', true],
    ['192.168.01.10', false], // padded, but not to three digits
    ['192.168.001.256', false],
  ])('zero-padded IPv4 %s -> %s', (ip, ok) => expect(isIpv4(ip, { zeroPadded: true })).toBe(ok));

  it.each([
    ['2001:db8::1', true],
    ['fe80::1ff:fe23:4567:890a', true],
    ['::ffff:192.0.2.1', true],
    ['2001:db8:0:0:0:0:2:1', true],
    ['10:30:45', false], // a time, not an address
    ['2001:db8::1::2', false],
    ['12345::1', false],
  ])('IPv6 %s -> %s', (ip, ok) => expect(isIpv6(ip)).toBe(ok));
});
