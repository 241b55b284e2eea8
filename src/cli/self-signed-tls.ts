/**
 * `ward init --self-signed`: make a trial certificate in the data directory and record it in
 * `ward.json` (`tls.certFile`/`tls.keyFile`, relative to the data directory), so a plain
 * `ward serve` afterwards serves HTTPS. Run again (`--if-missing`), it changes nothing: an
 * existing certificate is kept and its fingerprint shown again, and a TLS setup the operator
 * configured is never replaced.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { WardConfig } from '../config/ward-config.js';
import { wardPaths } from '../config/data-dir.js';
import { SELF_SIGNED_CERT_FILE, SELF_SIGNED_KEY_FILE, writeSelfSignedCertificate } from '../http/self-signed-certificate.js';
import { tlsServerOptions } from '../http/tls-server-options.js';
import { WardError } from '../shared/ward-error.js';

export interface SelfSignedTls {
  /** A certificate was made now (false: the configured or existing one was kept). */
  created: boolean;
  /** The certificate file (absolute). */
  certFile: string;
  /** `AB:CD:…`, as browsers and `openssl x509 -fingerprint -sha256` show it. */
  fingerprint256: string;
  validTo: string;
  names: string;
  /** The configured TLS was someone else's choice (not the self-signed files): left alone. */
  configuredElsewhere: boolean;
}

function describe(certFile: string, created: boolean, configuredElsewhere: boolean): SelfSignedTls {
  const cert = new X509Certificate(readFileSync(certFile));
  return { created, certFile, fingerprint256: cert.fingerprint256, validTo: new Date(cert.validTo).toISOString(), names: cert.subjectAltName ?? '', configuredElsewhere };
}

/** Add `tls` to ward.json, keeping every other setting; written whole, then renamed into place. */
function recordInConfigFile(file: string): void {
  let values: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      values = parsed as Record<string, unknown>;
    } catch {
      throw new WardError('config.invalid', 'ward.json in the data directory is not a valid JSON object; fix it, then run ward init --if-missing --self-signed again');
    }
  }
  values.tls = { certFile: SELF_SIGNED_CERT_FILE, keyFile: SELF_SIGNED_KEY_FILE };
  const temp = `${file}.tmp`;
  writeFileSync(temp, `${JSON.stringify(values, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}

export async function installSelfSignedTls(config: WardConfig): Promise<SelfSignedTls> {
  const paths = wardPaths(config.dataDir);
  if (config.tls !== undefined) {
    // Already configured (by an earlier --self-signed or by the operator): never replace it.
    tlsServerOptions(config.tls, config.dataDir);
    const certFile = resolve(config.dataDir, config.tls.certFile);
    return describe(certFile, false, certFile !== resolve(config.dataDir, SELF_SIGNED_CERT_FILE));
  }
  const certFile = join(config.dataDir, SELF_SIGNED_CERT_FILE);
  const keyFile = join(config.dataDir, SELF_SIGNED_KEY_FILE);
  const haveCert = existsSync(certFile);
  if (haveCert !== existsSync(keyFile)) {
    throw new WardError('tls.certificate_incomplete', `only one of ${certFile} and ${keyFile} exists; remove it, then run ward init --if-missing --self-signed again`);
  }
  // Files left by an earlier run that stopped before recording them are used, not replaced.
  if (!haveCert) await writeSelfSignedCertificate(config.dataDir);
  const tls = { certFile: SELF_SIGNED_CERT_FILE, keyFile: SELF_SIGNED_KEY_FILE, clientCertificates: 'off' as const };
  tlsServerOptions(tls, config.dataDir);
  recordInConfigFile(paths.configFile);
  return describe(certFile, !haveCert, false);
}
