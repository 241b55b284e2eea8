/**
 * An in-process Ward HTTP server over a real test database, wired by the composition root's
 * own `buildAccessServices` (so tests exercise the production wiring), with its log lines
 * captured so tests can prove that no PHI or credential reaches them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerOptions } from 'node:https';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { JWTVerifyGetKey } from 'jose';
import type { TestDialect } from '../../storage/testing/test-databases.js';
import { createAuditWorld } from '../../audit/testing/audit-world.js';
import type { AuditWorld } from '../../audit/testing/audit-world.js';
import type { Principal } from '../../auth/principal.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { BoundedConcurrency } from '../../auth/bounded-concurrency.js';
import { totpCodeAt } from '../../auth/testing/totp-helper.js';
import { SecretBox } from '../../storage/secret-box.js';
import type { OidcConfig } from '../../config/oidc-config.js';
import { parsePolicy } from '../../policy/parse-policy.js';
import { DATA_VIEW_NAMES } from '../../policy/data-views.js';
import { roles } from '../../auth/roles.js';
import type { ModelConfigInput } from '../../config/models-config.js';
import { gatewayConfigSchema, modelConfigSchema } from '../../config/models-config.js';
import type { GatewayConfig } from '../../config/models-config.js';
import type { Resolve } from '../../models/egress/guarded-lookup.js';
import type { ChatGateway } from '../../gateway/chat-gateway.js';
import type { ModelRegistry } from '../../models/model-registry.js';
import { loadDictionaries } from '../../deid/load-dictionaries.js';
import type { DeidDictionaries } from '../../deid/dictionaries.js';
import { buildGateway, buildAccessServices, readPolicyFile, readViewsFile, DEFAULT_POLICY_FILE, DEFAULT_VIEWS_FILE } from '../../main.js';
import type { AccessServices } from '../../main.js';
import { createLocalKeyFile } from '../../storage/local-key-file.js';
import { LocalKeyProvider } from '../../storage/keys/local-key-provider.js';
import { buildRecords } from '../../records/build-records.js';
import type { RecordsServices } from '../../records/build-records.js';
import { buildServer } from '../build-server.js';
import { createLogger } from '../create-logger.js';

export interface HttpWorld extends AuditWorld, AccessServices, RecordsServices {
  app: FastifyInstance;
  logs: string[];
  /**
   * A person with a changed password and an enrolled authenticator, signed in: returns a
   * bearer token, the account id, the password and the TOTP secret.
   */
  userWithToken(username: string, roles: string[]): Promise<{ token: string; id: string; password: string; totpSecret: string }>;
  /** Sign in again as an enrolled person (moves the clock one TOTP step so the code is fresh). */
  login(username: string, password: string, totpSecret: string): Promise<string>;
  gateway: ChatGateway;
  models: ModelRegistry;
  /** A service identity with an API key; returns the key and the principal id. */
  serviceWithKey(service: string, roles: string[], scopes: string[]): Promise<{ key: string; id: string }>;
}

export const SYSTEM_ACTOR: Principal = { id: 'ward', kind: 'system', roles: [] };

export interface HttpWorldOptions {
  /** The audit log the server writes through (default: the world's); setup always uses the world's. */
  auditLog?: (w: AuditWorld) => AuditLog;
  passwordVerifications?: BoundedConcurrency;
  /** Policy file contents (default: the shipped default policy). */
  policyText?: string;
  oidc?: { config: OidcConfig; keys?: JWTVerifyGetKey };
  trustedProxies?: string[];
  /** Serve HTTPS with these options (then `app.listen` for real TLS connections). */
  https?: ServerOptions;
  /** The model registry (as in ward.json's `models`); none by default. */
  models?: ModelConfigInput[];
  gateway?: Partial<GatewayConfig>;
  /** DNS for model endpoints (tests point names at chosen addresses). */
  resolve?: Resolve;
}

/** The de-identification dictionaries, loaded once per test process (they take a moment). */
let dictionaries: DeidDictionaries | undefined;

export async function createHttpWorld(dialect: TestDialect, options: HttpWorldOptions = {}): Promise<HttpWorld> {
  const w = await createAuditWorld(dialect);
  const logs: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { logs.push(chunk.toString('utf8')); cb(); } });
  const logger = createLogger({ logLevel: 'debug' }, sink);
  const policy = options.policyText !== undefined ? parsePolicy(options.policyText, { roles, views: DATA_VIEW_NAMES }) : readPolicyFile(DEFAULT_POLICY_FILE).policy;
  const box = new SecretBox({ activeId: 'kek-1', keys: new Map([['kek-1', randomBytes(32)]]) });
  const config = {
    session: { idleMinutes: 15, absoluteHours: 8 },
    lockout: { maxFailures: 5, lockMinutes: 15 },
    breakGlass: { defaultMinutes: 240, maxMinutes: 240 },
    ...(options.oidc !== undefined ? { oidc: options.oidc.config } : {}),
  };
  const build = (audit: AuditLog): AccessServices => buildAccessServices({
    db: w.t.db, audit, clock: w.clock, box, policy, config,
    ...(options.oidc?.keys !== undefined ? { oidcKeys: options.oidc.keys } : {}),
    ...(options.passwordVerifications !== undefined ? { verifications: options.passwordVerifications } : {}),
  });
  const services = build(w.log);
  const serverAudit = options.auditLog?.(w);
  // Records over a real local key file in a temporary folder and the shipped default views.
  const keyDir = mkdtempSync(join(tmpdir(), 'ward-http-keys-'));
  createLocalKeyFile(join(keyDir, 'local-kek.json'), w.clock.now());
  const provider = await LocalKeyProvider.open({ file: join(keyDir, 'local-kek.json') });
  const { views } = readViewsFile(DEFAULT_VIEWS_FILE);
  const records = buildRecords({ db: w.t.db, audit: serverAudit ?? w.log, clock: w.clock, provider, views: () => views, settings: { retentionYears: 0 } });
  const served = serverAudit === undefined ? services : build(serverAudit);
  const gatewayConfig = gatewayConfigSchema.parse(options.gateway ?? {});
  const { gateway, registry } = await buildGateway({
    config: { models: (options.models ?? []).map((m) => modelConfigSchema.parse(m)), dataDir: keyDir, gateway: gatewayConfig },
    audit: serverAudit ?? w.log, clock: w.clock, records: records.records, box,
    dictionaries: (dictionaries ??= loadDictionaries()),
    ...(options.resolve !== undefined ? { resolve: options.resolve } : {}),
  });
  const app = await buildServer({
    gateway, gatewayBodyLimit: gatewayConfig.bodyLimitBytes,
    logger, db: w.t.db, audit: serverAudit ?? w.log,
    accounts: served.accounts, sessions: served.sessions, mfa: served.mfa, authenticator: served.authenticator,
    access: served.access, breakGlass: served.breakGlass, records: records.records,
    ...(options.trustedProxies !== undefined ? { trustedProxies: options.trustedProxies } : {}),
    ...(options.https !== undefined ? { https: options.https } : {}),
    ready: () => Promise.resolve(true),
  });

  async function login(username: string, password: string, totpSecret: string): Promise<string> {
    w.clock.advance(30_000);
    const s = await services.sessions.login(username, password, { totp: totpCodeAt(totpSecret, w.clock.now()) });
    return s.token;
  }

  return {
    ...w,
    ...services,
    ...records,
    app, logs, login, gateway, models: registry,
    async userWithToken(username, accountRoles) {
      const { account, oneTimePassword } = await services.accounts.create({ username, roles: accountRoles }, SYSTEM_ACTOR);
      const password = `correct horse battery ${username} staple`;
      await services.accounts.changePassword(account.id, oneTimePassword, password);
      const { secret } = await services.mfa.beginTotp(account.id, username);
      await services.mfa.confirmTotp(account.id, totpCodeAt(secret, w.clock.now()));
      return { token: await login(username, password, secret), id: account.id, password, totpSecret: secret };
    },
    async serviceWithKey(service, serviceRoles, scopes) {
      const issued = await services.apiKeys.create({ service, roles: serviceRoles, scopes }, SYSTEM_ACTOR);
      return { key: issued.key, id: `svc:${service}` };
    },
    async dispose() {
      await app.close();
      await registry.close();
      await provider.close();
      await w.dispose();
      rmSync(keyDir, { recursive: true, force: true });
    },
  };
}
