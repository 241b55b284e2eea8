/**
 * Single sign-on: a bearer JWT (RFC 7519) from the configured OpenID Connect issuer, verified
 * against the issuer's JWKS with `jose`, becomes a person principal (45 CFR 164.312(d)).
 *
 * jose does the signature and claim checks. Before it sees the token, this file refuses what
 * the JWT BCP (RFC 8725) says to refuse and what jose would let through: oversized input,
 * anything but canonical three-segment base64url (jose decodes leniently, so padding, stray
 * whitespace or non-zero trailing bits would otherwise verify as the same signature),
 * duplicate JSON member names (RFC 7515 §5.2 allows rejecting them; two parsers reading
 * different values is a classic bypass), algorithms outside the allow-list, and headers that
 * carry or locate keys (`jwk`, `jku`, `x5u`, `x5c`) or demand extensions (`crit`): keys come from
 * the configured JWKS and nowhere else (RFC 8725 §3.1, §3.10).
 *
 * Every refusal is a value with a stable reason code. Nothing from the token (claims, kid,
 * key material) ever goes into a reason, an exception message or a log.
 */
import { asymmetricJwsAlgorithms } from '../shared/jws-algorithms.js';
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import type { Clock } from '../shared/clock.js';
import { WardError } from '../shared/ward-error.js';
import type { Principal } from './principal.js';
import type { PersonRole } from './roles.js';
import { isPersonRole } from './roles.js';

/** Asymmetric JWS algorithms (RFC 7518 §3.1, RFC 8037); the same list as `src/config/oidc-config.ts`. */
export const oidcVerifierAlgorithms = asymmetricJwsAlgorithms;

/**
 * `amr` values (RFC 8176 §2) that show more than a password: explicit multi-factor or
 * multiple-channel, or a possession / inherence factor.
 */
export const mfaAuthenticationMethods = ['mfa', 'mca', 'otp', 'hwk', 'swk', 'sc', 'fpt', 'face', 'iris', 'retina', 'vbm'] as const;

export type OidcRefusal =
  | 'auth.token_malformed'
  | 'auth.token_too_large'
  | 'auth.token_bad_signature'
  | 'auth.token_expired'
  | 'auth.token_not_yet_valid'
  | 'auth.token_wrong_issuer'
  | 'auth.token_wrong_audience'
  | 'auth.token_wrong_type'
  | 'auth.token_algorithm_refused'
  | 'auth.token_header_refused'
  | 'auth.token_unknown_key'
  | 'auth.token_claims_invalid'
  | 'auth.mfa_required'
  | 'auth.jwks_unavailable'
  | 'auth.token_no_roles'
  | 'auth.token_rejected';

/** Same shape as `OidcConfig` (src/config/oidc-config.ts) after defaults; auth may not import config. */
export interface OidcVerifierSettings {
  issuer: string;
  audience: string | readonly string[];
  jwksUri: string;
  algorithms: readonly string[];
  clockSkewSeconds: number;
  /** Path segments to the role claim: `['roles']`, `['realm_access', 'roles']`. */
  roleClaim: readonly string[];
  roleMap: Readonly<Record<string, readonly string[]>>;
  requireMfa: boolean;
  maxTokenBytes: number;
  requiredTyp?: string | undefined;
  jwksCacheSeconds: number;
}

export interface OidcVerifierOptions {
  clock: Clock;
  /** Key resolver; default: the remote JWKS at `jwksUri`, cached for `jwksCacheSeconds`. */
  keys?: JWTVerifyGetKey;
  /** How long one JWKS fetch may take before the token is refused with `auth.jwks_unavailable`. */
  jwksTimeoutMs?: number;
}

/**
 * `subject` is the issuer's raw `sub`, for account linking only: it may be a name or an e-mail
 * address, so logs and audit entries use `principal.id` (id-shaped, or a digest) instead.
 */
export type OidcVerification =
  | { ok: true; principal: Principal & { kind: 'person'; authn: 'oidc' }; subject: string; expiresAt: Date }
  | { ok: false; reason: OidcRefusal };

/** Header parameters that carry or point at keys, or require extension processing (RFC 8725 §3.10, RFC 7515 §4.1.11). */
const REFUSED_HEADER_PARAMETERS = ['jwk', 'jku', 'x5u', 'x5c', 'crit'] as const;
/**
 * Key ids as issuers mint them (base64, base64url, hex, UUIDs, RFC 7638 thumbprints): no
 * whitespace, quotes, control or non-ASCII characters, no `..`, at most 128 characters. jose only
 * compares kid for equality, but a kid outside this shape is never legitimate and is refused
 * before it reaches any lookup.
 */
const SAFE_KID = /^[A-Za-z0-9._~+/=-]{1,128}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** Subjects that can stand in an audit id as they are; others are hashed (audit ids have no free text). */
const ID_SHAPED_SUBJECT = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,95}$/;
/** OIDC Core §2: `sub` MUST NOT exceed 255 ASCII characters. */
const MAX_SUBJECT_CHARS = 255;
const REQUIRED_CLAIMS = ['exp', 'iat', 'sub'];
const DEFAULT_JWKS_TIMEOUT_MS = 5000;

/** Fatal on invalid UTF-8, and a byte order mark is kept (so JSON.parse refuses it: RFC 8259 §8.1). */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

type JsonObject = Record<string, unknown>;

/** Thrown only inside the key resolver, so key-set failures are told apart from token faults. */
class KeyLookupFailed extends Error {
  constructor(readonly reason: OidcRefusal) {
    super(reason);
  }
}

export class OidcVerifier {
  private readonly keys: JWTVerifyGetKey;
  private readonly clock: Clock;
  private readonly algorithms: readonly string[];
  private readonly audience: string[];
  private readonly roleMap: ReadonlyMap<string, readonly PersonRole[]>;

  constructor(
    private readonly settings: OidcVerifierSettings,
    options: OidcVerifierOptions,
  ) {
    const refused = settings.algorithms.filter((a) => !(oidcVerifierAlgorithms as readonly string[]).includes(a));
    if (settings.algorithms.length === 0 || refused.length > 0) {
      throw new WardError('config.invalid', 'oidc.algorithms must be a non-empty list of asymmetric JWS algorithms');
    }
    if (settings.roleClaim.length === 0) throw new WardError('config.invalid', 'oidc.roleClaim must name a claim');
    this.algorithms = [...settings.algorithms];
    this.audience = typeof settings.audience === 'string' ? [settings.audience] : [...settings.audience];
    this.clock = options.clock;
    this.roleMap = new Map(Object.entries(settings.roleMap).map(([value, granted]) => [value, granted.filter(isPersonRole)]));
    const keys =
      options.keys ??
      createRemoteJWKSet(new URL(settings.jwksUri), {
        cacheMaxAge: settings.jwksCacheSeconds * 1000,
        timeoutDuration: options.jwksTimeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS,
      });
    this.keys = async (header, token) => {
      try {
        return await keys(header, token);
      } catch (error) {
        throw new KeyLookupFailed(keyLookupReason(error));
      }
    };
  }

  /** Never throws for a bad token: every refusal is `{ ok: false, reason }`. */
  async verify(token: string): Promise<OidcVerification> {
    try {
      return await this.check(token);
    } catch {
      return refuse('auth.token_rejected');
    }
  }

  private async check(token: string): Promise<OidcVerification> {
    const early = this.inspect(token);
    if (early !== undefined) return refuse(early);

    const now = this.clock.now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        algorithms: [...this.algorithms],
        issuer: this.settings.issuer,
        audience: this.audience,
        clockTolerance: this.settings.clockSkewSeconds,
        currentDate: now,
        requiredClaims: REQUIRED_CLAIMS,
        ...(this.settings.requiredTyp === undefined ? {} : { typ: this.settings.requiredTyp }),
      }));
    } catch (error) {
      return refuse(joseReason(error));
    }
    return this.accept(payload, now);
  }

  /** The checks jose does not make, on the raw token, before any key is looked up. */
  private inspect(token: string): OidcRefusal | undefined {
    if (typeof token !== 'string') return 'auth.token_malformed';
    if (Buffer.byteLength(token, 'utf8') > this.settings.maxTokenBytes) return 'auth.token_too_large';
    const segments = token.split('.');
    if (segments.length !== 3) return 'auth.token_malformed';
    const [encodedHeader = '', encodedPayload = '', signature = ''] = segments;
    if (!isCanonicalBase64url(signature)) return 'auth.token_malformed';
    const header = decodeJsonObject(encodedHeader);
    if (header === undefined || decodeJsonObject(encodedPayload) === undefined) return 'auth.token_malformed';

    const alg = header.alg;
    if (typeof alg !== 'string' || alg === '') return 'auth.token_malformed';
    // RFC 8725 §3.1: the allow-list decides, never the token; this also refuses "none" in any spelling.
    if (!this.algorithms.includes(alg)) return 'auth.token_algorithm_refused';
    if (REFUSED_HEADER_PARAMETERS.some((p) => Object.hasOwn(header, p))) return 'auth.token_header_refused';
    if (Object.hasOwn(header, 'kid') && !isSafeKid(header.kid)) return 'auth.token_header_refused';
    return undefined;
  }

  /** Claims jose left to us: finite times, iat not in the future, a usable sub, MFA, roles. */
  private accept(payload: JWTPayload, now: Date): OidcVerification {
    const { exp, iat, nbf, sub } = payload;
    if (typeof exp !== 'number' || !Number.isFinite(exp) || typeof iat !== 'number' || !Number.isFinite(iat)) return refuse('auth.token_claims_invalid');
    if (nbf !== undefined && !Number.isFinite(nbf)) return refuse('auth.token_claims_invalid');
    // RFC 7519 §4.1.6 does not forbid a future iat; a token "issued" later than now plus skew was not issued by a sane clock.
    if (iat > Math.floor(now.getTime() / 1000) + this.settings.clockSkewSeconds) return refuse('auth.token_not_yet_valid');
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUBJECT_CHARS) return refuse('auth.token_claims_invalid');
    if (this.settings.requireMfa && !showsSecondFactor(payload.amr)) return refuse('auth.mfa_required');
    const roles = this.rolesOf(payload);
    if (roles === undefined) return refuse('auth.token_claims_invalid');
    // Someone the identity provider knows but Ward's role map does not is not a Ward user.
    if (roles.length === 0) return refuse('auth.token_no_roles');
    return {
      ok: true,
      principal: { id: principalIdOf(this.settings.issuer, sub), kind: 'person', roles, authn: 'oidc' },
      subject: sub,
      expiresAt: new Date(exp * 1000),
    };
  }

  /** Claim values through the role map; unknown values grant nothing. `undefined` when the claim has the wrong type. */
  private rolesOf(payload: JWTPayload): PersonRole[] | undefined {
    const value = claimAt(payload, this.settings.roleClaim);
    let values: readonly unknown[];
    if (value === undefined) values = [];
    else if (typeof value === 'string') values = [value];
    else if (Array.isArray(value)) values = value;
    else return undefined;
    const roles = new Set<PersonRole>();
    for (const v of values) {
      if (typeof v !== 'string') return undefined;
      for (const role of this.roleMap.get(v) ?? []) roles.add(role);
    }
    return [...roles];
  }
}

/**
 * The audit log accepts only id-shaped strings: an id-shaped `sub` is used as it is, any other is
 * replaced by a digest bound to its issuer (`sub` is unique only per issuer, OIDC Core §2).
 */
export function principalIdOf(issuer: string, subject: string): string {
  // A readable subject that looks like a hashed one could collide with it: hash it too.
  if (ID_SHAPED_SUBJECT.test(subject) && !subject.startsWith('h-')) return `oidc:${subject}`;
  return `oidc:h-${createHash('sha256').update(`${issuer}\n${subject}`).digest('hex').slice(0, 32)}`;
}

function isSafeKid(kid: unknown): boolean {
  return typeof kid === 'string' && SAFE_KID.test(kid) && !kid.includes('..');
}

function refuse(reason: OidcRefusal): OidcVerification {
  return { ok: false, reason };
}

function showsSecondFactor(amr: unknown): boolean {
  return Array.isArray(amr) && amr.some((m) => typeof m === 'string' && (mfaAuthenticationMethods as readonly string[]).includes(m));
}

/** Walks own properties only, so `constructor` or `__proto__` never reach the prototype. */
function claimAt(payload: JsonObject, path: readonly string[]): unknown {
  let node: unknown = payload;
  for (const segment of path) {
    if (!isJsonObject(node) || !Object.hasOwn(node, segment)) return undefined;
    node = node[segment];
  }
  return node;
}

function keyLookupReason(error: unknown): OidcRefusal {
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return 'auth.token_unknown_key';
  if (error instanceof errors.JOSENotSupported) return 'auth.token_algorithm_refused';
  // Timeouts, refused connections, non-200 answers, unparsable or unusable key sets.
  return 'auth.jwks_unavailable';
}

function joseReason(error: unknown): OidcRefusal {
  if (error instanceof KeyLookupFailed) return error.reason;
  if (error instanceof errors.JWTExpired) return 'auth.token_expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return 'auth.token_wrong_issuer';
      case 'aud':
        return 'auth.token_wrong_audience';
      case 'typ':
        return 'auth.token_wrong_type';
      case 'nbf':
        return error.reason === 'check_failed' ? 'auth.token_not_yet_valid' : 'auth.token_claims_invalid';
      default:
        return 'auth.token_claims_invalid';
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'auth.token_bad_signature';
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return 'auth.token_algorithm_refused';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'auth.token_malformed';
  return 'auth.token_rejected';
}

/** RFC 7515 §2 / RFC 4648 §5 without padding, and only the one canonical spelling of each byte string. */
function isCanonicalBase64url(segment: string): boolean {
  return BASE64URL.test(segment) && segment.length % 4 !== 1 && Buffer.from(segment, 'base64url').toString('base64url') === segment;
}

/** A header or claims segment: canonical base64url of UTF-8 JSON, a plain object without duplicate member names. */
function decodeJsonObject(segment: string): JsonObject | undefined {
  if (segment === '' || !isCanonicalBase64url(segment)) return undefined;
  let text: string;
  let value: unknown;
  try {
    text = strictUtf8.decode(Buffer.from(segment, 'base64url'));
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isJsonObject(value) && !hasDuplicateMemberNames(text) ? value : undefined;
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether valid JSON text repeats a member name in any object. RFC 8259 §4 leaves duplicates to
 * the parser; RFC 7515 §5.2 lets a recipient reject them, and we do: the issuer, a proxy and
 * this process must all read the same claims. Names are compared after unescaping.
 */
function hasDuplicateMemberNames(json: string): boolean {
  const scopes: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let end = i + 1;
      while (end < json.length && json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      const scope = scopes[scopes.length - 1];
      if (expectName && scope) {
        const name = JSON.parse(json.slice(i, end + 1)) as string;
        if (scope.has(name)) return true;
        scope.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === '{') {
      scopes.push(new Set());
      expectName = true;
    } else if (c === '[') {
      scopes.push(null);
      expectName = false;
    } else if (c === '}' || c === ']') {
      scopes.pop();
    } else if (c === ',') {
      expectName = scopes[scopes.length - 1] instanceof Set;
    }
  }
  return false;
}
