/**
 * A self-signed server certificate for trials (`ward init --self-signed`), so a first
 * installation never has to serve PHI in clear. ECDSA P-256 with SHA-256 (NIST SP 800-52r2
 * section 3.2, SP 800-186), valid 90 days (short, like an ACME certificate: it is for trying
 * Ward, not for production), names: localhost, 127.0.0.1, ::1 and this machine's host name.
 * Clients pin it (its file as the only CA, or its SHA-256 fingerprint); nothing trusts it by
 * default. The key is written 0600 through the project's secret-file rule.
 */
import { X509Certificate, randomBytes, webcrypto } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { writeSecretFile } from '../storage/secret-file.js';
import { loadX509 } from './x509.js';

export const SELF_SIGNED_DAYS = 90;
/** Where `ward init --self-signed` puts the files, relative to the data directory. */
export const SELF_SIGNED_CERT_FILE = join('tls', 'cert.pem');
export const SELF_SIGNED_KEY_FILE = join('tls', 'key.pem');

const DAY_MS = 86_400_000;
/** Backdated a little so a client whose clock runs slow does not see "not yet valid". */
const BACKDATE_MS = 5 * 60_000;
/** RFC 1123 host names: what may go into a dNSName entry (RFC 5280 section 4.2.1.6). */
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export interface SelfSignedCertificate {
  certificatePem: string;
  privateKeyPem: string;
  /** The certificate, parsed (fingerprints, validity, names). */
  certificate: X509Certificate;
  /** DNS names and IP addresses in the subjectAltName. */
  names: string[];
}

/** localhost, the loopback addresses, and this machine's name when it is a valid DNS name. */
export function defaultCertificateNames(hostname = osHostname()): string[] {
  const names = ['localhost', '127.0.0.1', '::1'];
  const host = hostname.toLowerCase();
  if (DNS_NAME.test(host) && !names.includes(host)) names.push(host);
  return names;
}

function toPem(label: string, der: ArrayBuffer): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export async function createSelfSignedCertificate(options: { names?: string[]; now?: Date; days?: number } = {}): Promise<SelfSignedCertificate> {
  const x509 = await loadX509();
  const names = options.names ?? defaultCertificateNames();
  const now = options.now ?? new Date();
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  // A positive 128-bit serial (RFC 5280 section 4.1.2.2: unique, at most 20 octets).
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const commonName = names.find((n) => isIP(n) === 0) ?? 'localhost';
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: [{ CN: [commonName] }, { O: ['Ward self-signed trial certificate'] }],
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + (options.days ?? SELF_SIGNED_DAYS) * DAY_MS),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((n) => (isIP(n) === 0 ? { type: 'dns' as const, value: n } : { type: 'ip' as const, value: n }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certificatePem = certificate.toString('pem').replace(/\r\n/g, '\n').trimEnd() + '\n';
  const privateKeyPem = toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { certificatePem, privateKeyPem, certificate: new X509Certificate(certificatePem), names };
}

/**
 * Create a self-signed certificate and write it under `dataDir` (`tls/cert.pem`, and
 * `tls/key.pem` 0600). Existing files are never overwritten (`storage.secret_exists`).
 */
export async function writeSelfSignedCertificate(dataDir: string, options: { names?: string[]; now?: Date } = {}): Promise<SelfSignedCertificate & { certFile: string; keyFile: string }> {
  const made = await createSelfSignedCertificate(options);
  const certFile = join(dataDir, SELF_SIGNED_CERT_FILE);
  const keyFile = join(dataDir, SELF_SIGNED_KEY_FILE);
  mkdirSync(join(dataDir, 'tls'), { recursive: true, mode: 0o700 });
  writeSecretFile(keyFile, made.privateKeyPem);
  // The certificate is public: readable like any certificate (the data directory stays 0700).
  writeFileSync(certFile, made.certificatePem, { mode: 0o644, flag: 'wx' });
  return { ...made, certFile, keyFile };
}
