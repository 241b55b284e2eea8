/**
 * Node `https` server options from the TLS settings (45 CFR 164.312(e)(1) transmission
 * security). The floor and the ciphers follow NIST SP 800-52r2 section 3 and Mozilla's
 * "intermediate" profile: TLS 1.2 or newer (RFC 8996 deprecates 1.0 and 1.1); on TLS 1.2 only
 * ECDHE key exchange (forward secrecy) with AES-GCM or ChaCha20-Poly1305 (AEAD: no CBC, no
 * SHA-1 MACs, no RSA key transport); TLS 1.3 suites are all AEAD. Neither is configurable.
 *
 * The files are read once, at start, and checked before anything listens: an unreadable or
 * malformed file, a key that does not match the certificate, or a key file that group or
 * others may read (the rule of `storage/secret-file.ts`) stops the start with one line naming
 * the setting.
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import { resolve } from 'node:path';
import type { TlsConfig } from '../config/tls-config.js';
import { WardError } from '../shared/ward-error.js';

/** TLS 1.2 suites: ECDHE with AEAD ciphers only, ECDSA first (Mozilla intermediate, without DHE). */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;
/** TLS 1.3 suites (RFC 8446 section 9.1; all AEAD), named so the list is explicit. */
export const TLS13_CIPHERS = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] as const;
export const TLS_MIN_VERSION = 'TLSv1.2';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** SHA-256 of a certificate's DER encoding, lower-case hex (the RFC 8705 section 3.1 thumbprint, hex-encoded). */
export function certificateSha256(certificate: X509Certificate): string {
  return createHash('sha256').update(certificate.raw).digest('hex');
}

/** Every certificate in PEM text (a chain or a CA bundle); none when any block is malformed. */
export function parseCertificates(pem: string): X509Certificate[] {
  try {
    return (pem.match(PEM_CERTIFICATE) ?? []).map((b) => new X509Certificate(b));
  } catch {
    return [];
  }
}

function readCertificates(file: string, setting: string, codes: { unreadable: `tls.${string}`; invalid: `tls.${string}` }): { pem: string; certificates: X509Certificate[] } {
  const pem = readText(file, setting, codes.unreadable);
  const certificates = parseCertificates(pem);
  if (certificates.length === 0) throw new WardError(codes.invalid, `tls.${setting}: ${file} holds no valid PEM certificate`);
  return { pem, certificates };
}

function readText(file: string, setting: string, code: `tls.${string}`): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new WardError(code, `tls.${setting}: cannot read ${file} (${reason})`);
  }
}

/** The private key, refused when group or others may read it (a key that may have leaked is not used). */
function readKey(file: string): { pem: string; key: KeyObject } {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (e) {
    throw new WardError('tls.key_unreadable', `tls.keyFile: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if ((mode & 0o077) !== 0) {
    throw new WardError('tls.key_permissions', `tls.keyFile: ${file} is readable by others (mode ${mode.toString(8)}); run chmod 600`);
  }
  const pem = readText(file, 'keyFile', 'tls.key_unreadable');
  try {
    return { pem, key: createPrivateKey({ key: pem, format: 'pem' }) };
  } catch {
    throw new WardError('tls.key_invalid', `tls.keyFile: ${file} is not an unencrypted PEM private key`);
  }
}

/**
 * Read and check the files once, and return the options for `https.createServer` (or
 * Fastify's `https`). `baseDir` resolves relative paths (the data directory).
 */
export function tlsServerOptions(tls: TlsConfig, baseDir: string): ServerOptions {
  const certFile = resolve(baseDir, tls.certFile);
  const keyFile = resolve(baseDir, tls.keyFile);
  const { pem: certPem, certificates: [leaf] } = readCertificates(certFile, 'certFile', { unreadable: 'tls.cert_unreadable', invalid: 'tls.cert_invalid' });
  const { pem: keyPem, key } = readKey(keyFile);
  if (leaf === undefined || !leaf.checkPrivateKey(key)) {
    throw new WardError('tls.key_mismatch', `tls.keyFile: ${keyFile} is not the private key of the certificate in ${certFile}`);
  }
  const options: ServerOptions = {
    cert: certPem,
    key: keyPem,
    minVersion: TLS_MIN_VERSION,
    ciphers: [...TLS13_CIPHERS, ...TLS12_CIPHERS].join(':'),
    // The server's order wins, so a client that lists a weaker suite first still gets the best shared one.
    honorCipherOrder: true,
  };
  if (tls.clientCertificates === 'off' || tls.clientCaFile === undefined) return options;
  const caFile = resolve(baseDir, tls.clientCaFile);
  const { pem: caPem } = readCertificates(caFile, 'clientCaFile', { unreadable: 'tls.client_ca_unreadable', invalid: 'tls.client_ca_invalid' });
  return {
    ...options,
    ca: caPem,
    requestCert: true,
    // `optional`: an unverified or missing certificate still reaches ordinary authentication
    // (socket.authorized is false, so no certificate-bound key accepts it); `required`: the
    // handshake fails.
    rejectUnauthorized: tls.clientCertificates === 'required',
  };
}
