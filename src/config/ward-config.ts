/**
 * Ward's configuration: one validated object, resolved once at start from (highest first)
 * command-line flags, environment variables, `ward.json` in the data directory, defaults.
 * Invalid configuration stops the process with a one-line message naming the setting; it
 * never falls back silently to something less safe.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { oidcConfigSchema } from './oidc-config.js';
import { tlsConfigSchema } from './tls-config.js';
import { recordsConfigSchema } from './records-config.js';
import { gatewayConfigSchema, modelConfigSchema } from './models-config.js';

function isAddressOrCidr(v: string): boolean {
  const [address, prefix, extra] = v.split('/');
  if (extra !== undefined || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

export const wardConfigSchema = z
  .object({
    /** Data directory: SQLite database, key files, audit checkpoint file. */
    dataDir: z.string().min(1),
    /** PostgreSQL connection URL; when absent the embedded SQLite database is used. */
    databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** How often a signed audit checkpoint is written (seconds); 60 at most (issue: at least every 60 s). */
    checkpointIntervalSeconds: z.number().int().min(1).max(60).default(60),
    /** Also checkpoint after this many entries, so the unsigned window (and the work of re-verifying it before signing) stays bounded under load. */
    checkpointEveryEntries: z.number().int().min(100).max(1_000_000).default(50_000),
    /** Plain HTTP beyond loopback exposes credentials and PHI in transit (45 CFR 164.312(e)); off unless explicitly allowed. */
    allowPlainHttp: z.boolean().default(false),
    /** HTTPS for `ward serve`: certificate and key (TLS 1.2 or newer). */
    tls: tlsConfigSchema.optional(),
    records: recordsConfigSchema.default({ keyProvider: 'local', retentionYears: 0 }),
    /** The model registry (see models-config.ts); empty: the embedded model below, if any. */
    models: z.array(modelConfigSchema).max(64).default([]),
    /**
     * With no model server configured, `ward serve` runs this GGUF file in-process (on-prem
     * zone). Relative paths are read from the data directory. Also `WARD_EMBEDDED_MODEL`.
     */
    embeddedModel: z
      .object({
        id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/).default('embedded'),
        path: z.string().min(1),
        /** Default: cores - 1 (node-llama-cpp's own default is far too slow on small machines). */
        threads: z.number().int().min(1).max(256).optional(),
        contextTokens: z.number().int().min(64).max(131_072).default(2048),
        maxTokens: z.number().int().min(1).max(32_768).default(512),
        concurrency: z.number().int().min(1).max(64).default(1),
      })
      .strict()
      .optional(),
    gateway: gatewayConfigSchema.default(gatewayConfigSchema.parse({})),
    /**
     * Reverse proxies (IP addresses or CIDR ranges) whose `X-Forwarded-For` names the real
     * client. Without this, every client behind a TLS-terminating proxy looks like the proxy,
     * and the per-address sign-in budget becomes one budget shared by everyone.
     */
    trustedProxies: z.array(z.string().refine(isAddressOrCidr, 'must be an IP address or CIDR range')).max(64).default([]),
    /** Seconds between failing readiness and closing the listener at shutdown (load balancers drain). */
    shutdownGraceSeconds: z.number().min(0).max(60).default(1),
    session: z
      .object({
        /** Automatic logoff after inactivity (45 CFR 164.312(a)(2)(iii)). */
        idleMinutes: z.number().int().min(1).max(120).default(15),
        absoluteHours: z.number().int().min(1).max(24).default(8),
      })
      .strict()
      .default({ idleMinutes: 15, absoluteHours: 8 }),
    /** Single sign-on: bearer JWTs from this OIDC issuer (absent: local accounts and API keys only). */
    oidc: oidcConfigSchema.optional(),
    /** The access policy file; defaults to `policy.json` in the data directory. */
    policyFile: z.string().min(1).optional(),
    lockout: z
      .object({
        /** Consecutive failed sign-ins before a username is locked (NIST SP 800-63B 5.2.2 allows at most 100). */
        maxFailures: z.number().int().min(3).max(100).default(5),
        lockMinutes: z.number().int().min(1).max(1440).default(15),
      })
      .strict()
      .default({ maxFailures: 5, lockMinutes: 15 }),
    breakGlass: z
      .object({
        /** Emergency access is time-boxed: 4 hours unless the person asks for less. */
        defaultMinutes: z.number().int().min(5).max(720).default(240),
        maxMinutes: z.number().int().min(5).max(720).default(240),
      })
      .strict()
      .refine((b) => b.defaultMinutes <= b.maxMinutes, { message: 'defaultMinutes must not exceed maxMinutes' })
      .default({ defaultMinutes: 240, maxMinutes: 240 }),
  })
  .strict();

export type WardConfig = z.infer<typeof wardConfigSchema>;
export type WardConfigInput = z.input<typeof wardConfigSchema>;
