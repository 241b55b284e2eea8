/**
 * A throwaway PKI for TLS tests: a CA (ECDSA P-256) that issues server certificates (for
 * 127.0.0.1, ::1, localhost) and client certificates (service identities), as PEM, with the
 * SHA-256 of each certificate's DER the way Ward stores it. Everything is made in memory per
 * test run; nothing here is trusted anywhere else.
 */
import { X509Certificate, randomBytes, webcrypto } from 'node:crypto';
import { loadX509 } from '../x509.js';
import { certificateSha256 } from '../tls-server-options.js';

export interface TestCertificate {
  /** The certificate, PEM. */
  pem: string;
  /** Its private key, PKCS#8 PEM. */
  keyPem: string;
  certificate: X509Certificate;
  /** SHA-256 of the DER encoding, lower-case hex. */
  sha256: string;
}

export interface IssueOptions {
  commonName: string;
  usage: 'server' | 'client';
  /** subjectAltName entries (DNS names or IP addresses); default for servers: localhost and loopback. */
  names?: string[];
}

export interface TestCa extends TestCertificate {
  issue(options: IssueOptions): Promise<TestCertificate>;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 86_400_000;

function pem(label: string, der: ArrayBuffer): string {
  return `-----BEGIN ${label}-----\n${(Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`;
}

function serial(): string {
  const bytes = randomBytes(12);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

async function finish(cert: { toString(format: 'pem'): string }, keys: webcrypto.CryptoKeyPair): Promise<TestCertificate> {
  const text = `${cert.toString('pem').replace(/\r\n/g, '\n').trimEnd()}\n`;
  const certificate = new X509Certificate(text);
  return { pem: text, keyPem: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), certificate, sha256: certificateSha256(certificate) };
}

export async function createTestCa(commonName: string): Promise<TestCa> {
  const x509 = await loadX509();
  const now = Date.now();
  const caKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 30 * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const ca = await finish(caCert, caKeys);
  return {
    ...ca,
    async issue(options) {
      const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
      const names = options.names ?? (options.usage === 'server' ? ['localhost', '127.0.0.1', '::1'] : []);
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${options.commonName}`,
        issuer: caCert.subject,
        notBefore: new Date(now - DAY_MS),
        notAfter: new Date(now + 30 * DAY_MS),
        signingAlgorithm: ALGORITHM,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([options.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
          ...(names.length > 0
            ? [new x509.SubjectAlternativeNameExtension(names.map((n) => (/^[\d.]+$|:/.test(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n })))]
            : []),
          await x509.AuthorityKeyIdentifierExtension.create(caCert),
        ],
      });
      return finish(cert, keys);
    },
  };
}
