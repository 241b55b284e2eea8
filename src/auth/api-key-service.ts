/**
 * API keys for service identities: the internal apps and workflows that query PHI
 * (45 CFR 164.312(d), person or entity authentication). A key is `wak_<id>_<secret>`: the id
 * is its visible prefix (listed, audited, safe to show), the secret 256 random bits, shown once
 * at creation and stored only as its SHA-256. A fast hash suffices at that entropy (NIST
 * SP 800-63B 5.1.1.2 asks for salted slow hashing only of memorized secrets a person chose);
 * the comparison is constant-time.
 *
 * Keys are limited three ways: the service's roles (service roles only), the action scopes
 * the key carries (`model.chat`, `patient.*`), and an expiry (1 to 365 days). Rotation issues
 * a new key with the same grants and lets the old one live for a short grace period, so a
 * deployment can switch without downtime.
 *
 * A key may also be bound to a client certificate (RFC 8705 section 3, certificate-bound
 * access tokens): it stores the SHA-256 of the certificate's DER encoding and is accepted only
 * over a connection whose client certificate the TLS layer verified and whose hash matches, so
 * a leaked key alone is not enough. Rotation keeps the binding (or moves it to a renewed
 * certificate); it never drops it.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { WardSchema } from '../storage/schema.js';
import type { AuditLog, AuditTransaction } from '../audit/audit-log.js';
import type { AuditContext } from '../audit/audit-entry-of.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import type { Clock } from '../shared/clock.js';
import { WardError } from '../shared/ward-error.js';
import type { Principal } from './principal.js';
import type { CredentialChannel } from './authenticator.js';
import { isServiceRole, parseRoles, serviceRoles } from './roles.js';
import type { ServiceRole } from './roles.js';

export const API_KEY_PREFIX = 'wak_';
/** Service names: the principal id is `svc:<service>`. */
export const SERVICE_NAME = /^[a-z][a-z0-9-]{1,47}$/;
/**
 * An action scope: a dotted lower-case action code (`model.chat`) or every action under a
 * prefix (`patient.*`). Nothing broader: a key for everything is not least privilege.
 */
export const SCOPE_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*\.([a-z][a-z0-9_-]*|\*)$/;

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const ID_CHARS = 12;
const SECRET_BYTES = 32;
const KEY_SHAPE = /^wak_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$/;
const MAX_SCOPES = 32;
/** A certificate thumbprint as stored: SHA-256 of the DER encoding, lower-case hex. */
const CERTIFICATE_SHA256 = /^[0-9a-f]{64}$/;
/** `last_used_at` is written at most this often per key, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;
const DAY_MS = 86_400_000;

export interface ApiKeyRecord {
  /** The key id, also the visible part of the key. */
  id: string;
  /** What the key starts with (`wak_<id>`), to recognize it without its secret. */
  prefix: string;
  service: string;
  roles: ServiceRole[];
  scopes: string[];
  createdAt: string;
  createdBy: string;
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** The key this one replaced by rotation. */
  rotatedFrom: string | null;
  /** SHA-256 (hex) of the client certificate the key is bound to; null when unbound. */
  certificateSha256: string | null;
  status: 'active' | 'expired' | 'revoked';
}

export interface CreateApiKeyInput {
  service: string;
  roles: string[];
  scopes: string[];
  /** Lifetime in whole days, 1 to 365 (default 90). */
  expiresInDays?: number;
  /** Bind the key to this client certificate (SHA-256 of its DER encoding, hex). */
  certificateSha256?: string;
}

export type ApiKeyRefusal = 'auth.key_malformed' | 'auth.key_unknown' | 'auth.key_revoked' | 'auth.key_expired' | 'auth.certificate_mismatch';
export type ApiKeyCheck = { ok: true; principal: Principal } | { ok: false; reason: ApiKeyRefusal };

/** A new key: `key` is the only time its secret exists outside the caller's hands. */
export interface IssuedApiKey {
  key: string;
  record: ApiKeyRecord;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function newKeyId(): string {
  let id = '';
  for (let i = 0; i < ID_CHARS; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

export class ApiKeyService {
  constructor(
    private readonly db: Kysely<WardSchema>,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /** Issue a key for a service identity; audited `api-key.create`. */
  async create(input: CreateApiKeyInput, actor: Principal, context: AuditContext = {}): Promise<IssuedApiKey> {
    const grants = validGrants(input);
    const days = validDays(input.expiresInDays ?? 90, 'expiresInDays');
    const certificateSha256 = input.certificateSha256 === undefined ? null : validCertificate(input.certificateSha256);
    return this.audit.transact(async (trx, record) => {
      const issued = await this.insertKey(trx, { ...grants, days, createdBy: actor.id, rotatedFrom: null, certificateSha256 });
      record(auditEntryOf(actor, 'api-key.create', 'success', {
        resource: { type: 'ApiKey', id: issued.record.id },
        details: { service: grants.service, roles: grants.roles.join('+'), scopes: grants.scopes.length, expiresInDays: days, ...boundTo(certificateSha256) },
      }, context));
      return issued;
    });
  }

  /** Every key, newest first, optionally of one service. Never the secret or its hash. */
  async list(filter: { service?: string } = {}): Promise<ApiKeyRecord[]> {
    let q = this.db.selectFrom('api_key').selectAll().orderBy('created_at', 'desc').orderBy('id');
    if (filter.service !== undefined) q = q.where('service', '=', filter.service);
    const now = this.clock.now().toISOString();
    return (await q.execute()).map((r) => toRecord(r, now));
  }

  /** Revoke a key at once; audited `api-key.revoke` (`details.changed` is false if it already was). */
  async revoke(id: string, actor: Principal, context: AuditContext = {}): Promise<ApiKeyRecord> {
    const now = this.clock.now().toISOString();
    return this.audit.transact(async (trx, record) => {
      const row = await trx.selectFrom('api_key').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw notFound();
      const changed = row.revoked_at === null;
      if (changed) await trx.updateTable('api_key').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
      record(auditEntryOf(actor, 'api-key.revoke', 'success', { resource: { type: 'ApiKey', id }, details: { service: row.service, changed } }, context));
      return toRecord({ ...row, revoked_at: row.revoked_at ?? now }, now);
    });
  }

  /**
   * Replace a key with a new one holding the same service, roles and scopes (lifetime: the old
   * key's, unless given). The old key keeps working for `graceHours` (default 24, 0 to 168)
   * and then expires; it never gains time. Audited `api-key.rotate` on the old key, naming
   * the new one. A revoked key is not rotated (409): issue a new one instead. The new key is
   * bound to the old key's certificate, or to `certificateSha256` (a renewed certificate).
   */
  async rotate(id: string, actor: Principal, options: { graceHours?: number; expiresInDays?: number; certificateSha256?: string } = {}, context: AuditContext = {}): Promise<IssuedApiKey> {
    const graceHours = options.graceHours ?? 24;
    if (!Number.isInteger(graceHours) || graceHours < 0 || graceHours > 168) {
      throw new WardError('api-key.invalid_grace', 'graceHours must be a whole number from 0 to 168', { status: 400 });
    }
    const requestedDays = options.expiresInDays === undefined ? undefined : validDays(options.expiresInDays, 'expiresInDays');
    const rebound = options.certificateSha256 === undefined ? undefined : validCertificate(options.certificateSha256);
    const now = this.clock.now();
    return this.audit.transact(async (trx, record) => {
      const old = await trx.selectFrom('api_key').selectAll().where('id', '=', id).executeTakeFirst();
      if (!old) throw notFound();
      if (old.revoked_at !== null) throw new WardError('api-key.revoked', 'a revoked key cannot be rotated; create a new one', { status: 409 });
      // An expired key (including one already replaced, whose grace has run out) has no live
      // successor to hand over to: rotating it again would mint a second, untracked lineage.
      if (now.toISOString() >= old.expires_at) throw new WardError('api-key.expired', 'an expired key cannot be rotated; create a new one', { status: 409 });
      // One successor per key (checked under the audit head lock): two rotations must not
      // leave two live replacements.
      const successor = await trx.selectFrom('api_key').select('id').where('rotated_from', '=', old.id).executeTakeFirst();
      if (successor) throw new WardError('api-key.already_rotated', `this key was already replaced by ${successor.id}; rotate that one`, { status: 409 });
      const lifetimeDays = Math.round((Date.parse(old.expires_at) - Date.parse(old.created_at)) / DAY_MS);
      const days = requestedDays ?? Math.min(365, Math.max(1, lifetimeDays));
      const issued = await this.insertKey(trx, {
        service: old.service,
        roles: parseRoles(old.roles).filter(isServiceRole),
        scopes: parseScopes(old.scopes),
        days, createdBy: actor.id, rotatedFrom: old.id,
        certificateSha256: rebound ?? old.certificate_sha256,
      });
      const graceEnd = new Date(now.getTime() + graceHours * 3_600_000).toISOString();
      if (graceEnd < old.expires_at) await trx.updateTable('api_key').set({ expires_at: graceEnd }).where('id', '=', old.id).execute();
      record(auditEntryOf(actor, 'api-key.rotate', 'success', {
        resource: { type: 'ApiKey', id: old.id },
        details: { service: old.service, replacedBy: issued.record.id, graceHours, expiresInDays: days, ...boundTo(issued.record.certificateSha256) },
      }, context));
      return issued;
    });
  }

  /**
   * Resolve a presented key to its service principal, or say why not. The secret is checked
   * before anything about the key is revealed: without it, a real id and an unknown one look
   * alike (`auth.key_unknown`), and only a holder of the secret learns it is revoked or expired.
   * A certificate-bound key is refused (`auth.certificate_mismatch`) unless the connection
   * carried that certificate, verified (`channel`); its use is then not recorded.
   */
  async authenticate(token: string, channel: CredentialChannel = {}): Promise<ApiKeyCheck> {
    const m = KEY_SHAPE.exec(token);
    const [, id, secret] = m ?? [];
    if (id === undefined || secret === undefined) return { ok: false, reason: 'auth.key_malformed' };
    const row = await this.db.selectFrom('api_key').selectAll().where('id', '=', id).executeTakeFirst();
    const presented = createHash('sha256').update(secret).digest();
    // Compared against a same-length stand-in when the id is unknown, so both paths do the same work.
    const stored = row === undefined ? undefined : Buffer.from(row.secret_hash, 'hex');
    const expected = stored?.length === presented.length ? stored : Buffer.alloc(presented.length);
    const matches = timingSafeEqual(presented, expected) && expected === stored;
    if (!row || !matches) return { ok: false, reason: 'auth.key_unknown' };
    if (row.revoked_at !== null) return { ok: false, reason: 'auth.key_revoked' };
    const now = this.clock.now();
    const nowIso = now.toISOString();
    if (nowIso >= row.expires_at) return { ok: false, reason: 'auth.key_expired' };
    if (row.certificate_sha256 !== null && row.certificate_sha256 !== channel.clientCertificateSha256) return { ok: false, reason: 'auth.certificate_mismatch' };
    if (row.last_used_at === null || now.getTime() - Date.parse(row.last_used_at) >= LAST_USED_RESOLUTION_MS) {
      // Conditional, so processes racing on the same key write it once per resolution step.
      const staleBefore = new Date(now.getTime() - LAST_USED_RESOLUTION_MS).toISOString();
      await this.db
        .updateTable('api_key')
        .set({ last_used_at: nowIso })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', staleBefore)]))
        .execute();
    }
    return {
      ok: true,
      principal: {
        id: `svc:${row.service}`,
        kind: 'service',
        roles: parseRoles(row.roles).filter(isServiceRole),
        scopes: parseScopes(row.scopes),
        authn: 'api-key',
        credentialId: row.id,
      },
    };
  }

  private async insertKey(
    trx: AuditTransaction,
    k: { service: string; roles: ServiceRole[]; scopes: string[]; days: number; createdBy: string; rotatedFrom: string | null; certificateSha256: string | null },
  ): Promise<IssuedApiKey> {
    const now = this.clock.now();
    const id = newKeyId();
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    const row: WardSchema['api_key'] = {
      id,
      secret_hash: sha256Hex(secret),
      service: k.service,
      roles: JSON.stringify(k.roles),
      scopes: JSON.stringify(k.scopes),
      created_at: now.toISOString(),
      created_by: k.createdBy,
      expires_at: new Date(now.getTime() + k.days * DAY_MS).toISOString(),
      revoked_at: null,
      last_used_at: null,
      rotated_from: k.rotatedFrom,
      certificate_sha256: k.certificateSha256,
    };
    await trx.insertInto('api_key').values(row).execute();
    return { key: `${API_KEY_PREFIX}${id}_${secret}`, record: toRecord(row, now.toISOString()) };
  }
}

const notFound = (): WardError => new WardError('api-key.not_found', 'no such API key', { status: 404 });

function validGrants(input: CreateApiKeyInput): { service: string; roles: ServiceRole[]; scopes: string[] } {
  if (!SERVICE_NAME.test(input.service)) {
    throw new WardError('api-key.invalid_service', 'service name must be 2-48 characters: lower-case letters, digits and -, starting with a letter', { status: 400 });
  }
  const roles = [...new Set(input.roles)];
  if (roles.length === 0 || !roles.every(isServiceRole)) {
    throw new WardError('api-key.invalid_role', `unknown or missing role; roles for services are: ${serviceRoles.join(', ')}`, { status: 400 });
  }
  const scopes = [...new Set(input.scopes)];
  if (scopes.length === 0 || scopes.length > MAX_SCOPES || !scopes.every((s) => s.length <= 96 && SCOPE_PATTERN.test(s))) {
    throw new WardError('api-key.invalid_scope', `give 1 to ${MAX_SCOPES} scopes, each an action (model.chat) or an action prefix (patient.*)`, { status: 400 });
  }
  return { service: input.service, roles, scopes };
}

function validDays(days: number, field: string): number {
  if (!Number.isInteger(days) || days < 1 || days > 365) {
    throw new WardError('api-key.invalid_expiry', `${field} must be a whole number of days from 1 to 365`, { status: 400 });
  }
  return days;
}

function validCertificate(sha256: string): string {
  if (!CERTIFICATE_SHA256.test(sha256)) {
    throw new WardError('api-key.invalid_certificate', 'certificateSha256 must be the SHA-256 of the certificate (64 lower-case hex digits)', { status: 400 });
  }
  return sha256;
}

/** The binding in audit details: the certificate's hash identifies it and is no secret. */
function boundTo(certificateSha256: string | null): { certificateSha256?: string } {
  return certificateSha256 === null ? {} : { certificateSha256 };
}

function parseScopes(stored: string): string[] {
  const parsed: unknown = JSON.parse(stored);
  return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === 'string' && SCOPE_PATTERN.test(s)) : [];
}

function toRecord(row: WardSchema['api_key'], now: string): ApiKeyRecord {
  return {
    id: row.id,
    prefix: `${API_KEY_PREFIX}${row.id}`,
    service: row.service,
    roles: parseRoles(row.roles).filter(isServiceRole),
    scopes: parseScopes(row.scopes),
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
    rotatedFrom: row.rotated_from,
    certificateSha256: row.certificate_sha256,
    status: row.revoked_at !== null ? 'revoked' : now >= row.expires_at ? 'expired' : 'active',
  };
}
