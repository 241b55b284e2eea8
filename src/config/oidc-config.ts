/**
 * The `oidc` section of ward.json: single sign-on with bearer JWTs from one OpenID Connect
 * issuer (OIDC Core 1.0), verified against the issuer's published JWKS (RFC 7517). Every
 * setting fails closed: only asymmetric algorithms (RFC 8725 §3.1, §3.2), TLS for the issuer
 * and the key set except on loopback, bounded clock skew and token size, MFA required.
 * The verifier in `src/auth` takes a structurally identical settings object (auth may not
 * import config), so keep the output shape of this schema in step with `OidcVerifierSettings`.
 */
import { z } from 'zod';

import { asymmetricJwsAlgorithms } from '../shared/jws-algorithms.js';
import type { AsymmetricJwsAlgorithm } from '../shared/jws-algorithms.js';

/** Asymmetric JWS algorithms an issuer's key set can prove. */
export const oidcAlgorithms = asymmetricJwsAlgorithms;
export type OidcAlgorithm = AsymmetricJwsAlgorithm;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * An https URL, or http on a loopback host only: a key set or issuer fetched in plaintext over a
 * network can be swapped in transit (Ward egress rule; 45 CFR 164.312(e)). No credentials in
 * the URL, no fragment.
 */
function secureUrl(what: string) {
  return z.string().superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${what} must be an absolute URL` });
      return;
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
      ctx.addIssue({ code: 'custom', message: `${what} must use https (http is allowed only on a loopback host)` });
    }
    if (url.username !== '' || url.password !== '') ctx.addIssue({ code: 'custom', message: `${what} must not carry credentials` });
    if (url.hash !== '' || value.includes('#')) ctx.addIssue({ code: 'custom', message: `${what} must not have a fragment` });
  });
}

const algorithm = z.string().superRefine((value, ctx) => {
  if ((oidcAlgorithms as readonly string[]).includes(value)) return;
  if (/^none$/i.test(value)) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is refused: unsigned tokens prove nothing (RFC 8725 §3.1)` });
  } else if (/^HS\d+$/i.test(value)) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is refused: shared-secret algorithms let anyone holding the secret mint tokens and invite RS/HS key confusion (RFC 8725 §2.1, §3.1); use one of ${oidcAlgorithms.join(', ')}`,
    });
  } else {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not supported; use one of ${oidcAlgorithms.join(', ')}` });
  }
});

const CONTROL_CHARACTER = /\p{Cc}/u;

/** A claim name, one path segment: non-empty, no control characters. */
const claimName = z
  .string()
  .min(1, 'claim names must not be empty')
  .max(256)
  .refine((name) => !CONTROL_CHARACTER.test(name), 'claim names must not contain control characters');

/**
 * Where the roles are in the token: a dotted path (`roles`, `groups`, `realm_access.roles`), or
 * an array of segments for claim names that themselves contain dots (Auth0-style namespaced
 * claims such as `https://example.com/roles`). Normalized to the array of segments.
 */
const roleClaim = z
  .union([
    z
      .string()
      .refine((path) => !CONTROL_CHARACTER.test(path) && path.split('.').every((segment) => segment !== ''), 'must be a dotted claim path such as roles or realm_access.roles')
      .transform((path) => path.split('.')),
    z.array(claimName).min(1, 'must name at least one claim'),
  ])
  .refine((segments) => segments.length <= 8, 'must be at most 8 levels deep');

export const oidcConfigSchema = z
  .object({
    /** Expected `iss`, compared as an exact string (OIDC Core §3.1.3.7 step 2): not normalized. */
    issuer: secureUrl('issuer'),
    /** Expected `aud`: ours must appear in the token's audience (RFC 7519 §4.1.3). */
    audience: z.union([z.string().min(1, 'must not be empty'), z.array(z.string().min(1, 'must not be empty')).min(1, 'must list at least one audience')]),
    /** The issuer's JWKS (`jwks_uri` in its discovery document). */
    jwksUri: secureUrl('jwksUri'),
    /** Allow-list of signature algorithms (RFC 8725 §3.1): asymmetric only. */
    algorithms: z
      .array(algorithm)
      .min(1, 'must list at least one algorithm')
      .transform((list) => [...new Set(list)] as OidcAlgorithm[])
      .default(['RS256', 'ES256', 'EdDSA']),
    /** Tolerance for clock differences on exp, nbf and iat (RFC 7519 §4.1.4 "small leeway"). */
    clockSkewSeconds: z.number().int().min(0).max(300).default(60),
    roleClaim: roleClaim.default(['roles']),
    /** Claim value -> Ward roles; the caller checks role names against Ward's roles. Unlisted values grant nothing. */
    roleMap: z.record(z.string().min(1, 'claim values must not be empty'), z.array(z.string().min(1)).min(1, 'must grant at least one role')).default({}),
    /** The `amr` claim (RFC 8176) must show a second factor (45 CFR 164.312(d)). */
    requireMfa: z.boolean().default(true),
    /** Larger tokens are refused before any decoding: bounded work for an unauthenticated request. */
    maxTokenBytes: z.number().int().min(1024).max(16_384).default(8192),
    /** Required `typ` header, e.g. `at+jwt` for OAuth access tokens (RFC 9068 §2.1, RFC 8725 §3.11). */
    requiredTyp: z
      .string()
      .regex(/^[A-Za-z0-9!#$&^_.+-]{1,64}(\/[A-Za-z0-9!#$&^_.+-]{1,64})?$/, 'must be a media type such as at+jwt')
      .optional(),
    /** How long a fetched key set is used before it is fetched again. */
    jwksCacheSeconds: z.number().int().min(60).max(86_400).default(600),
  })
  .strict();

export type OidcConfig = z.infer<typeof oidcConfigSchema>;
export type OidcConfigInput = z.input<typeof oidcConfigSchema>;
