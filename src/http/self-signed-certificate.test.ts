/**
 * The trial certificate of `ward init --self-signed`: ECDSA P-256 signed with SHA-256,
 * 90 days (backdated five minutes for slow clocks), a server-only leaf (not a CA) for
 * localhost, 127.0.0.1, ::1 and the host name, with a key written 0600 beside it and never
 * overwritten.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isWardError } from '../shared/ward-error.js';
import { createSelfSignedCertificate, defaultCertificateNames, writeSelfSignedCertificate } from './self-signed-certificate.js';
import { tlsServerOptions } from './tls-server-options.js';
import { loadX509 } from './x509.js';

const DAY = 86_400_000;
const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('self-signed certificate', () => {
  it('is ECDSA P-256 / SHA-256, valid 90 days, for localhost, loopback and the host name, a leaf for servers only', async () => {
    const now = new Date('2026-03-01T12:00:00Z');
    const c = await createSelfSignedCertificate({ now, names: defaultCertificateNames('Ward-Host.example') });
    const cert = c.certificate;
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:ward-host.example');
    expect(Date.parse(cert.validFrom)).toBe(now.getTime() - 5 * 60_000);
    expect(Date.parse(cert.validTo)).toBe(now.getTime() + 90 * DAY);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // extended key usage: serverAuth only
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(c.privateKeyPem))).toBe(true);
    const parsed = new (await loadX509()).X509Certificate(c.certificatePem);
    expect(parsed.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
    // Two certificates never share a serial number or a key.
    const again = await createSelfSignedCertificate({ now });
    expect(again.certificate.serialNumber).not.toBe(cert.serialNumber);
    expect(again.privateKeyPem).not.toBe(c.privateKeyPem);
  });

  it('leaves out a host name that is not a DNS name', () => {
    expect(defaultCertificateNames('localhost')).toEqual(['localhost', '127.0.0.1', '::1']);
    expect(defaultCertificateNames('bad_name!')).toEqual(['localhost', '127.0.0.1', '::1']);
    expect(defaultCertificateNames('node-7')).toEqual(['localhost', '127.0.0.1', '::1', 'node-7']);
  });

  it('writes tls/cert.pem and tls/key.pem (0600, 0700 directory) that the server accepts, and never overwrites them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ward-self-signed-'));
    temps.push(dir);
    const made = await writeSelfSignedCertificate(dir);
    expect(made.certFile).toBe(join(dir, 'tls', 'cert.pem'));
    expect(statSync(made.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'tls')).mode & 0o077).toBe(0);
    expect(new X509Certificate(readFileSync(made.certFile)).fingerprint256).toBe(made.certificate.fingerprint256);
    const options = tlsServerOptions({ certFile: 'tls/cert.pem', keyFile: 'tls/key.pem', clientCertificates: 'off' }, dir);
    expect(options.cert).toBe(made.certificatePem);
    const before = readFileSync(made.keyFile, 'utf8');
    const error = await writeSelfSignedCertificate(dir).then(() => undefined, (e: unknown) => e);
    expect(isWardError(error) && error.code).toBe('storage.secret_exists');
    expect(readFileSync(made.keyFile, 'utf8')).toBe(before);
  });
});
