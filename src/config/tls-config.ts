/**
 * TLS for `ward serve` (45 CFR 164.312(e)(1) transmission security; NIST SP 800-52r2): the
 * server certificate and key, and optionally mutual TLS for service identities. Relative
 * paths are relative to the data directory (what `ward init --self-signed` records).
 * The protocol floor (TLS 1.2) and the cipher list are not settings: they live in
 * `src/http/tls-server-options.ts`, so no configuration can weaken them.
 */
import { z } from 'zod';

/**
 * Whether the server asks clients for a certificate: `off`; `optional` (a certificate from
 * the client CA is verified and may bind API keys, clients without one go on to ordinary
 * authentication); `required` (the handshake fails without a certificate from the client CA).
 */
export const clientCertificateModes = ['off', 'optional', 'required'] as const;
export type ClientCertificateMode = (typeof clientCertificateModes)[number];

export const tlsConfigSchema = z
  .object({
    /** PEM certificate chain file (leaf first). */
    certFile: z.string().min(1),
    /** PEM private key file (0600: refused when group or others may read it). */
    keyFile: z.string().min(1),
    /** PEM bundle of the CA certificates that issue client certificates (mutual TLS). */
    clientCaFile: z.string().min(1).optional(),
    clientCertificates: z.enum(clientCertificateModes).default('off'),
  })
  .strict()
  .superRefine((tls, ctx) => {
    // A CA without a mode (or a mode without a CA) is a half-done setup: say so at start
    // rather than serve without the client verification the operator meant to turn on.
    if (tls.clientCertificates !== 'off' && tls.clientCaFile === undefined) {
      ctx.addIssue({ code: 'custom', path: ['clientCaFile'], message: `is required when clientCertificates is ${tls.clientCertificates}` });
    }
    if (tls.clientCertificates === 'off' && tls.clientCaFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['clientCertificates'], message: 'must be optional or required when clientCaFile is set' });
    }
  });

export type TlsConfig = z.infer<typeof tlsConfigSchema>;
