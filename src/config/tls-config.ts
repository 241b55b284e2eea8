/**
 * TLS for `ward serve` (45 CFR 164.312(e)(1) transmission security). Owned by the TLS work;
 * see src/http/README.md.
 */
import { z } from 'zod';

export const tlsConfigSchema = z
  .object({
    /** PEM certificate chain file. */
    certFile: z.string().min(1),
    /** PEM private key file (0600). */
    keyFile: z.string().min(1),
  })
  .strict();

export type TlsConfig = z.infer<typeof tlsConfigSchema>;
