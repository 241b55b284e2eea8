/**
 * The TLS settings become server options once, at start, or the start stops with one line
 * naming the setting: missing and malformed files, a key that group or others may read (the
 * project's secret-file rule), a key that is not the certificate's, a half-configured mutual
 * TLS. The options carry the TLS 1.2 floor, ECDHE+AEAD suites only, the server's order, and
 * the client CA with the right verification mode.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlsConfigSchema } from '../config/tls-config.js';
import type { TlsConfig } from '../config/tls-config.js';
import { isWardError } from '../shared/ward-error.js';
import { TLS12_CIPHERS, certificateSha256, parseCertificates, tlsServerOptions } from './tls-server-options.js';
import { createTestCa } from './testing/test-pki.js';
import type { TestCa, TestCertificate } from './testing/test-pki.js';

let dir: string;
let ca: TestCa;
let server: TestCertificate;
let other: TestCertificate;

function write(name: string, text: string, mode = 0o600): string {
  const file = join(dir, name);
  writeFileSync(file, text, { mode });
  chmodSync(file, mode);
  return file;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isWardError(e)) {
      // One line, naming the setting.
      expect(e.message).not.toContain('\n');
      expect(e.message).toMatch(/^tls\.(certFile|keyFile|clientCaFile): /);
      return e.code;
    }
    throw e;
  }
  return 'no error';
}

const base: TlsConfig = { certFile: 'cert.pem', keyFile: 'key.pem', clientCertificates: 'off' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ward-tls-options-'));
  ca = await createTestCa('Ward Test CA');
  server = await ca.issue({ commonName: 'localhost', usage: 'server' });
  other = await ca.issue({ commonName: 'other', usage: 'server' });
  write('cert.pem', server.pem + ca.pem, 0o644);
  write('key.pem', server.keyPem);
  write('other-key.pem', other.keyPem);
  write('ca.pem', ca.pem, 0o644);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tlsServerOptions', () => {
  it('reads the files relative to the data directory: TLS 1.2 floor, ECDHE with AEAD only, server order', () => {
    const o = tlsServerOptions(base, dir);
    expect(o.minVersion).toBe('TLSv1.2');
    expect(o.maxVersion).toBeUndefined(); // TLS 1.3 stays on
    expect(o.honorCipherOrder).toBe(true);
    expect(o.cert).toBe(server.pem + ca.pem);
    expect(o.key).toBe(server.keyPem);
    const suites = String(o.ciphers).split(':');
    for (const s of suites.filter((c) => !c.startsWith('TLS_'))) expect(s).toMatch(/^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    expect(suites).toEqual(expect.arrayContaining([...TLS12_CIPHERS]));
    expect(o.requestCert).toBeUndefined();
    // Absolute paths work too.
    expect(tlsServerOptions({ ...base, certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') }, '/nonexistent').key).toBe(server.keyPem);
  });

  it('mutual TLS: the client CA, a certificate request, and rejection only when required', () => {
    const optional = tlsServerOptions({ ...base, clientCaFile: 'ca.pem', clientCertificates: 'optional' }, dir);
    expect(optional).toMatchObject({ ca: ca.pem, requestCert: true, rejectUnauthorized: false });
    const required = tlsServerOptions({ ...base, clientCaFile: 'ca.pem', clientCertificates: 'required' }, dir);
    expect(required).toMatchObject({ ca: ca.pem, requestCert: true, rejectUnauthorized: true });
  });

  it('refuses unreadable and malformed files with one line naming the setting', () => {
    write('garbage.pem', 'not a certificate\n', 0o644);
    write('bad-block.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 0o644);
    write('garbage-key.pem', 'not a key\n');
    expect(codeOf(() => tlsServerOptions({ ...base, certFile: 'missing.pem' }, dir))).toBe('tls.cert_unreadable');
    expect(codeOf(() => tlsServerOptions({ ...base, certFile: 'garbage.pem' }, dir))).toBe('tls.cert_invalid');
    expect(codeOf(() => tlsServerOptions({ ...base, certFile: 'bad-block.pem' }, dir))).toBe('tls.cert_invalid');
    expect(codeOf(() => tlsServerOptions({ ...base, keyFile: 'missing.pem' }, dir))).toBe('tls.key_unreadable');
    expect(codeOf(() => tlsServerOptions({ ...base, keyFile: 'garbage-key.pem' }, dir))).toBe('tls.key_invalid');
    expect(codeOf(() => tlsServerOptions({ ...base, keyFile: 'other-key.pem' }, dir))).toBe('tls.key_mismatch');
    expect(codeOf(() => tlsServerOptions({ ...base, clientCaFile: 'missing.pem', clientCertificates: 'required' }, dir))).toBe('tls.client_ca_unreadable');
    expect(codeOf(() => tlsServerOptions({ ...base, clientCaFile: 'garbage.pem', clientCertificates: 'optional' }, dir))).toBe('tls.client_ca_invalid');
  });

  it('refuses a key file that group or others may read, like every secret file', () => {
    for (const mode of [0o640, 0o604, 0o644]) {
      write(`loose-${mode.toString(8)}.pem`, server.keyPem, mode);
      expect(codeOf(() => tlsServerOptions({ ...base, keyFile: `loose-${mode.toString(8)}.pem` }, dir))).toBe('tls.key_permissions');
    }
    write('tight.pem', server.keyPem, 0o400);
    expect(tlsServerOptions({ ...base, keyFile: 'tight.pem' }, dir).key).toBe(server.keyPem);
  });
});

describe('certificate helpers', () => {
  it('certificateSha256 is the SHA-256 of the DER encoding, lower-case hex (what bound keys store)', () => {
    const cert = new X509Certificate(server.pem);
    expect(certificateSha256(cert)).toBe(createHash('sha256').update(cert.raw).digest('hex'));
    expect(certificateSha256(cert)).toBe(cert.fingerprint256.replace(/:/g, '').toLowerCase());
  });

  it('parseCertificates reads every block of a bundle, and nothing from a malformed one', () => {
    expect(parseCertificates(server.pem + ca.pem).map(certificateSha256)).toEqual([server.sha256, ca.sha256]);
    expect(parseCertificates('no pem here')).toEqual([]);
    expect(parseCertificates(`${server.pem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`)).toEqual([]);
  });
});

describe('tls settings', () => {
  it('default to no client certificates; a mode needs a CA and a CA needs a mode; unknown keys are refused', () => {
    expect(tlsConfigSchema.parse({ certFile: 'c', keyFile: 'k' })).toEqual({ certFile: 'c', keyFile: 'k', clientCertificates: 'off' });
    expect(tlsConfigSchema.parse({ certFile: 'c', keyFile: 'k', clientCaFile: 'ca', clientCertificates: 'required' }).clientCertificates).toBe('required');
    const issues = (v: unknown): string[] => {
      const r = tlsConfigSchema.safeParse(v);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ certFile: 'c', keyFile: 'k', clientCertificates: 'optional' })).toEqual(['clientCaFile: is required when clientCertificates is optional']);
    expect(issues({ certFile: 'c', keyFile: 'k', clientCaFile: 'ca' })).toEqual(['clientCertificates: must be optional or required when clientCaFile is set']);
    expect(issues({ certFile: 'c', keyFile: 'k', clientCertificates: 'sometimes', clientCaFile: 'ca' })).toHaveLength(1);
    expect(issues({ certFile: 'c', keyFile: 'k', minVersion: 'TLSv1' })).toHaveLength(1);
    expect(issues({ certFile: 'c' })).toHaveLength(1);
  });
});
