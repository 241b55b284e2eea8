/**
 * The composition root: the only place that chooses and builds concrete adapters (SQLite or
 * PostgreSQL, key files, the logger, the HTTP server) and wires them together. Everything
 * below it receives its collaborators as arguments.
 */
import { existsSync, mkdirSync, chmodSync, readFileSync, copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHash, createPublicKey, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { createLogger } from './http/create-logger.js';
import type { FastifyInstance } from 'fastify';
import type { WardConfig } from './config/ward-config.js';
import { wardPaths } from './config/data-dir.js';
import type { WardPaths } from './config/data-dir.js';
import { openSqlite } from './storage/open-sqlite.js';
import { openPostgres } from './storage/open-postgres.js';
import { migrateToLatest } from './storage/migrate.js';
import type { MigrationReport } from './storage/migrate.js';
import type { WardDatabase } from './storage/ward-database.js';
import { createLocalKeyFile, readLocalKeyFile } from './storage/local-key-file.js';
import { AuditLog } from './audit/audit-log.js';
import { CheckpointFile } from './audit/checkpoint-file.js';
import { CheckpointSchedule } from './audit/checkpoint-schedule.js';
import { generateSigningKeyPair, readSigningKey, readVerifyKey, writeSigningKeyFiles } from './audit/signing-key-files.js';
import { readAuditHead } from './audit/audit-reader.js';
import { keyIdOf, newestValidCheckpoint } from './audit/checkpoint.js';
import { AccountService } from './auth/account-service.js';
import { SessionService } from './auth/session-service.js';
import { BoundedConcurrency } from './auth/bounded-concurrency.js';
import { PASSWORD_VERIFICATION_LIMITS } from './auth/password-limits.js';
import { MfaService } from './auth/mfa-service.js';
import { LoginThrottle, loginKeyOf } from './auth/login-throttle.js';
import { ClientThrottle } from './auth/client-throttle.js';
import { ApiKeyService } from './auth/api-key-service.js';
import { CareRelationships } from './auth/care-relationships.js';
import { BreakGlassService } from './auth/break-glass-service.js';
import { AccessControl } from './auth/access-control.js';
import { Authenticator } from './auth/authenticator.js';
import type { CredentialVerifier } from './auth/authenticator.js';
import { OidcVerifier } from './auth/oidc-verifier.js';
import type { OidcVerifierSettings } from './auth/oidc-verifier.js';
import { isPersonRole, personRoles, roles as knownRoles } from './auth/roles.js';
import type { Principal } from './auth/principal.js';
import { SecretBox } from './storage/secret-box.js';
import { parsePolicy } from './policy/parse-policy.js';
import type { CompiledPolicy } from './policy/compiled-policy.js';
import { DATA_VIEW_NAMES } from './policy/data-views.js';
import { buildServer } from './http/build-server.js';
import { parseViews } from './records/views/parse-views.js';
import type { ViewCatalog } from './records/views/view-catalog.js';
import { buildRecords } from './records/build-records.js';
import type { RecordsServices } from './records/build-records.js';
import type { KeyProvider } from './storage/keys/key-provider.js';
import { LocalKeyProvider } from './storage/keys/local-key-provider.js';
import { Pkcs11KeyProvider } from './storage/keys/pkcs11-key-provider.js';
import { purgeDeleted } from './storage/purge-deleted.js';
import { tlsServerOptions } from './http/tls-server-options.js';
import { isLoopbackHost } from './http/loopback-host.js';
import { systemClock } from './shared/clock.js';
import { availableParallelism } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { ModelConfig } from './config/models-config.js';
import { modelConfigSchema } from './config/models-config.js';
import { ModelRegistry } from './models/model-registry.js';
import type { ModelAdapter } from './models/model-adapter.js';
import { OpenAiCompatibleAdapter } from './models/openai-compatible-adapter.js';
import { EmbeddedAdapter } from './models/embedded-adapter.js';
import type { Resolve } from './models/egress/guarded-lookup.js';
import { ChatGateway } from './gateway/chat-gateway.js';
import { RateLimits } from './gateway/rate-limits.js';
import { JsonOutputGuard } from './guards/json-output-guard.js';
import { loadDictionaries } from './deid/load-dictionaries.js';
import type { DeidDictionaries } from './deid/dictionaries.js';
import type { Clock } from './shared/clock.js';
import { WardError } from './shared/ward-error.js';

export { createLogger };

export const SYSTEM_PRINCIPAL: Principal = { id: 'ward', kind: 'system', roles: [] };

/** The policy Ward ships with; `ward init` copies it into the data directory to be edited. */
export const DEFAULT_POLICY_FILE = fileURLToPath(new URL('../data/policy/default-policy.json', import.meta.url));

export function policyFileOf(config: WardConfig): string {
  return config.policyFile ?? wardPaths(config.dataDir).policyFile;
}

/**
 * Read and validate a policy file; any problem stops the caller with every problem listed.
 * The digest (SHA-256 of the bytes) goes on record at every start next to the version, so an
 * edit made without raising the version still shows in the audit trail.
 */
export function readPolicyFile(file: string): { policy: CompiledPolicy; digest: string } {
  const { text, digest } = readInstalledFile(file, 'policy.missing', 'policy file');
  return { policy: parsePolicy(text, { roles: knownRoles, views: DATA_VIEW_NAMES }), digest };
}

/** A file `ward init` installs (policy, views): its text and the SHA-256 of its bytes. */
function readInstalledFile(file: string, code: 'policy.missing' | 'views.missing', what: string): { text: string; digest: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new WardError(code, `cannot read the ${what} ${file} (run \`ward init --if-missing\` to install the default)`);
  }
  return { text, digest: createHash('sha256').update(text, 'utf8').digest('hex') };
}

/** Install a shipped default (policy, views) where none exists yet; returns whether it did. */
function installDefault(from: string, file: string): boolean {
  if (existsSync(file)) return false;
  copyFileSync(from, file);
  chmodSync(file, 0o600);
  return true;
}

function installDefaultPolicy(file: string): boolean {
  return installDefault(DEFAULT_POLICY_FILE, file);
}

/** The data views Ward ships with; `ward init` copies them into the data directory to be narrowed. */
export const DEFAULT_VIEWS_FILE = fileURLToPath(new URL('../data/views/default-views.json', import.meta.url));

export function viewsFileOf(config: WardConfig): string {
  return config.records.viewsFile ?? wardPaths(config.dataDir).viewsFile;
}

/**
 * Read and validate the views file (every view the policy can name must be defined, every
 * element must exist in FHIR R4); any problem stops the caller with every problem listed.
 */
export function readViewsFile(file: string): { views: ViewCatalog; digest: string } {
  const { text, digest } = readInstalledFile(file, 'views.missing', 'views file');
  return { views: parseViews(text, { names: DATA_VIEW_NAMES }), digest };
}

/**
 * The configured key provider (wraps new data keys), and the local key file's provider too
 * when an HSM is configured, so data keys wrapped before the move still unwrap and
 * `ward keys rotate` can rewrap them onto the HSM.
 */
export async function openKeyProviders(config: WardConfig, paths: WardPaths, env: NodeJS.ProcessEnv = process.env): Promise<{ provider: KeyProvider; others: KeyProvider[] }> {
  const local = await LocalKeyProvider.open({ file: paths.keyFile });
  if (config.records.keyProvider === 'local') return { provider: local, others: [] };
  const p11 = config.records.pkcs11;
  const pin = env.WARD_PKCS11_PIN ?? p11?.pin;
  if (p11 === undefined || pin === undefined) {
    await local.close();
    throw new WardError('config.invalid', 'records.keyProvider "pkcs11" needs records.pkcs11 (module, tokenLabel) and a PIN (WARD_PKCS11_PIN)');
  }
  try {
    return { provider: await Pkcs11KeyProvider.open({ module: p11.module, tokenLabel: p11.tokenLabel, pin }), others: [local] };
  } catch (e) {
    await local.close();
    throw e;
  }
}

/**
 * The models `ward serve` offers: the configured registry, or, with no model server configured,
 * the embedded GGUF model from `embeddedModel` (on-prem, run in-process).
 */
export function modelConfigsOf(config: Pick<WardConfig, 'models' | 'embeddedModel' | 'dataDir'>): ModelConfig[] {
  if (config.models.length > 0 || config.embeddedModel === undefined) return config.models;
  const e = config.embeddedModel;
  return [modelConfigSchema.parse({
    id: e.id,
    adapter: 'embedded',
    zone: 'on-prem',
    path: isAbsolute(e.path) ? e.path : join(config.dataDir, e.path),
    ...(e.threads !== undefined ? { threads: e.threads } : {}),
    limits: { contextTokens: e.contextTokens, maxTokens: e.maxTokens, concurrency: e.concurrency },
  })];
}

/** The concrete adapter of a model (the only place adapters are built). */
export function openModelAdapter(config: ModelConfig, options: { env?: NodeJS.ProcessEnv; resolve?: Resolve } = {}): Promise<ModelAdapter> {
  if (config.adapter === 'embedded') {
    return EmbeddedAdapter.open({
      path: config.path,
      // node-llama-cpp's default (4 threads) is ~100x slower on a 2-core machine: leave one core to the server.
      threads: config.threads ?? Math.max(1, availableParallelism() - 1),
      contextTokens: config.limits.contextTokens,
      concurrency: config.limits.concurrency,
    });
  }
  const env = options.env ?? process.env;
  const apiKey = config.apiKeyEnv !== undefined ? env[config.apiKeyEnv] : undefined;
  if (config.apiKeyEnv !== undefined && (apiKey === undefined || apiKey === '')) {
    return Promise.reject(new WardError('config.invalid', `model ${config.id}: environment variable ${config.apiKeyEnv} (its API key) is not set`));
  }
  return Promise.resolve(new OpenAiCompatibleAdapter({ config, ...(apiKey !== undefined ? { apiKey } : {}), ...(options.resolve !== undefined ? { resolve: options.resolve } : {}) }));
}

/** The model gateway over the registry, the records' identifier index and the audit log. */
export async function buildGateway(input: {
  config: Pick<WardConfig, 'models' | 'embeddedModel' | 'dataDir' | 'gateway'>;
  audit: AuditLog;
  clock: Clock;
  records: RecordsServices['records'];
  box: SecretBox;
  dictionaries?: DeidDictionaries;
  resolve?: Resolve;
  env?: NodeJS.ProcessEnv;
}): Promise<{ gateway: ChatGateway; registry: ModelRegistry }> {
  const { config, audit, clock, records, box } = input;
  const registry = await ModelRegistry.open(modelConfigsOf(config), (c) => openModelAdapter(c, {
    ...(input.env !== undefined ? { env: input.env } : {}),
    ...(input.resolve !== undefined ? { resolve: input.resolve } : {}),
  }));
  const g = config.gateway;
  const gateway = new ChatGateway({
    registry,
    audit,
    clock,
    dictionaries: input.dictionaries ?? loadDictionaries(),
    jsonGuard: new JsonOutputGuard(),
    rateLimits: new RateLimits({ requestsPerMinute: g.requestsPerMinute, modelRequestsPerMinute: g.modelRequestsPerMinute, tokensPerDay: g.tokensPerDay, clock }),
    identifierOwners: (candidates) => records.identifierOwners(candidates),
    hashText: (text) => box.keyedHash('model-audit', text),
    settings: { externalPhi: g.externalPhi, reidentifyExternal: g.reidentifyExternal },
  });
  return { gateway, registry };
}

export function isInitialized(paths: WardPaths): boolean {
  return existsSync(paths.signingKey) && existsSync(paths.keyFile);
}

export function requireInitialized(paths: WardPaths): void {
  if (!isInitialized(paths)) throw new WardError('init.required', `${paths.dataDir} is not initialized: run \`ward init\` first`);
}

/** Open the configured database. Only `init` may create the SQLite file (`create: true`). */
export async function openDatabase(config: WardConfig, options: { readonly?: boolean; migrate?: boolean; create?: boolean } = {}): Promise<{ database: WardDatabase; migrations: MigrationReport }> {
  const paths = wardPaths(config.dataDir);
  const database = config.databaseUrl !== undefined
    ? openPostgres({ url: config.databaseUrl })
    : openSqlite({ file: paths.database, readonly: options.readonly ?? false, mustExist: !(options.create ?? false) });
  try {
    const migrations = options.migrate === false || options.readonly ? { applied: [] } : await migrateToLatest(database.db);
    return { database, migrations };
  } catch (e) {
    await database.close().catch(() => undefined);
    if (e instanceof WardError) throw e;
    throw new WardError('storage.unavailable', `cannot reach the database (${database.location})`, { cause: e, status: 503 });
  }
}

export interface InitResult {
  created: boolean;
  /** The default policy file was installed (also on an initialized directory that had none). */
  policyInstalled?: boolean;
  adminUsername?: string;
  oneTimePassword?: string;
  auditKeyId?: string;
}

/**
 * Create the data directory (0700), the database, the first administrator (whose one-time
 * password is returned once), and then the local key file and the audit signing key (0600).
 * The key files are written last, after the database step succeeded, because their presence
 * is what marks a data directory as initialized: a failed init can simply be run again.
 */
export async function initWard(config: WardConfig, options: { adminUsername: string; ifMissing: boolean; clock?: Clock }): Promise<InitResult> {
  const paths = wardPaths(config.dataDir);
  if (isInitialized(paths)) {
    if (options.ifMissing) {
      if (config.records.viewsFile === undefined) installDefault(DEFAULT_VIEWS_FILE, paths.viewsFile);
      return { created: false, policyInstalled: config.policyFile === undefined && installDefaultPolicy(paths.policyFile) };
    }
    throw new WardError('init.already_initialized', `${paths.dataDir} is already initialized`);
  }
  const clock = options.clock ?? systemClock;
  mkdirSync(paths.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(paths.dataDir, 0o700);
  mkdirSync(`${paths.dataDir}/keys`, { recursive: true, mode: 0o700 });
  const signing = generateSigningKeyPair();
  const keyId = keyIdOf(signing.publicKey);
  const { database } = await openDatabase(config, { create: true });
  const audit = new AuditLog({ db: database.db, clock, signingKey: signing.privateKey, checkpointSink: new CheckpointFile(paths.checkpointFile) });
  let done = false;
  try {
    const existing = await database.db.selectFrom('account').select('id').limit(1).executeTakeFirst();
    if (existing) throw new WardError('init.accounts_exist', 'the database already has accounts; refusing to create another first administrator');
    await audit.transact(async (trx, record) => {
      // Bind the database to this data directory's audit key: a later start refuses a database
      // that belongs to another installation (a wrong DATABASE_URL, a replaced file).
      for (const [key, value] of [['audit_key_id', keyId], ['install_id', randomUUID()]] as const) {
        await trx.insertInto('ward_meta').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
      }
      record({ who: { id: SYSTEM_PRINCIPAL.id, kind: 'system' }, action: 'system.init', outcome: 'success', details: { auditKey: keyId } });
    });
    const accounts = new AccountService(database.db, audit, clock);
    const { oneTimePassword } = await accounts.create({ username: options.adminUsername, roles: ['admin'] }, SYSTEM_PRINCIPAL);
    const policyInstalled = config.policyFile === undefined && installDefaultPolicy(paths.policyFile);
    if (config.records.viewsFile === undefined) installDefault(DEFAULT_VIEWS_FILE, paths.viewsFile);
    createLocalKeyFile(paths.keyFile, clock.now());
    writeSigningKeyFiles(paths.signingKey, paths.verifyKey, signing);
    done = true;
    return { created: true, policyInstalled, adminUsername: options.adminUsername, oneTimePassword, auditKeyId: keyId };
  } finally {
    // Only a completed init signs a checkpoint: a failed one must not leave signatures by a
    // key that was never kept.
    if (done) await audit.close();
    else await audit.flush().catch(() => undefined);
    await database.close();
  }
}

export interface RunningWard {
  app: FastifyInstance;
  address: string;
  audit: AuditLog;
  /** Stop taking requests, finish in-flight ones, flush and checkpoint the audit log, close the database. */
  shutdown(reason: string): Promise<void>;
}

export interface WardRuntime extends RecordsServices {
  database: WardDatabase;
  audit: AuditLog;
  accounts: AccountService;
  sessions: SessionService;
  mfa: MfaService;
  apiKeys: ApiKeyService;
  relationships: CareRelationships;
  breakGlass: BreakGlassService;
  access: AccessControl;
  authenticator: Authenticator;
  /** The policy in force (read and validated once, at start). */
  policy: () => CompiledPolicy;
  /** SHA-256 of the policy file's bytes. */
  policyDigest: string;
  /** The data views in force (read and validated once, at start). */
  views: () => ViewCatalog;
  /** SHA-256 of the views file's bytes. */
  viewsDigest: string;
  paths: WardPaths;
  clock: Clock;
  /** Sealed secrets and keyed hashes under the local key file. */
  box: SecretBox;
  /** After an erasure: make the database drop the deleted bytes now (see purge-deleted.ts). */
  afterErase(): Promise<void>;
  /** Close the key providers (HSM sessions). The database and audit log close separately. */
  closeKeys(): Promise<void>;
}

/** Open everything a command needs (database, keys, audit log, services). */
export async function openRuntime(config: WardConfig, options: { clock?: Clock; maxPageCount?: number } = {}): Promise<WardRuntime> {
  const paths = wardPaths(config.dataDir);
  requireInitialized(paths);
  const localKeys = readLocalKeyFile(paths.keyFile); // validates presence, format and permissions now, not at first use
  const signingKey = readSigningKey(paths.signingKey);
  const { policy: compiledPolicy, digest: policyDigest } = readPolicyFile(policyFileOf(config));
  const { views, digest: viewsDigest } = readViewsFile(viewsFileOf(config));
  const clock = options.clock ?? systemClock;
  const keys = await openKeyProviders(config, paths);
  const closeKeys = async (): Promise<void> => {
    for (const p of [keys.provider, ...keys.others]) await p.close().catch(() => undefined);
  };
  let database: WardDatabase;
  try {
    ({ database } = await openDatabase(config));
  } catch (e) {
    await closeKeys();
    throw e;
  }
  const checkpointFile = new CheckpointFile(paths.checkpointFile);
  try {
    await checkDatabaseBelongs(database, signingKey, checkpointFile);
  } catch (e) {
    await database.close();
    await closeKeys();
    throw e;
  }
  const audit = new AuditLog({ db: database.db, clock, signingKey, checkpointSink: checkpointFile });
  const box = new SecretBox(localKeys);
  const records = buildRecords({ db: database.db, audit, clock, provider: keys.provider, others: keys.others, views: () => views, settings: { retentionYears: config.records.retentionYears } });
  return {
    database, audit, paths, clock, policyDigest, viewsDigest,
    views: () => views,
    ...records,
    box,
    ...buildAccessServices({ db: database.db, audit, clock, box, policy: compiledPolicy, config }),
    afterErase: () => purgeDeleted(database),
    closeKeys,
  };
}

/** The identity and access part of the runtime. */
export type AccessServices = Pick<WardRuntime, 'accounts' | 'sessions' | 'mfa' | 'apiKeys' | 'relationships' | 'breakGlass' | 'access' | 'authenticator' | 'policy'>;

/**
 * The identity and access services over one database and audit log (shared with the test
 * worlds, so tests run the same wiring as the server).
 */
export function buildAccessServices(input: {
  db: WardDatabase['db'];
  audit: AuditLog;
  clock: Clock;
  box: SecretBox;
  policy: CompiledPolicy;
  config: Pick<WardConfig, 'session' | 'lockout' | 'breakGlass' | 'oidc'>;
  oidcKeys?: ConstructorParameters<typeof OidcVerifier>[1]['keys'];
  /** Cap on password verifications in flight (default: the session service's). */
  verifications?: BoundedConcurrency;
}): AccessServices {
  const { db, audit, clock, box, config } = input;
  const throttleKeyOf = (username: string): string => box.keyedHash('login-throttle', loginKeyOf(username));
  // One cap on argon2id work for sign-in and password change alike.
  const verifications = input.verifications ?? new BoundedConcurrency(PASSWORD_VERIFICATION_LIMITS);
  const accounts = new AccountService(db, audit, clock, throttleKeyOf, verifications);
  const mfa = new MfaService(db, audit, box, clock);
  const sessions = new SessionService(db, audit, accounts, clock, config.session, {
    mfa,
    loginThrottle: new LoginThrottle(db, clock, { ...config.lockout, keyOf: throttleKeyOf }),
    clientThrottle: new ClientThrottle(clock),
    verifications,
  });
  const apiKeys = new ApiKeyService(db, audit, clock);
  const relationships = new CareRelationships(db, audit, clock);
  const breakGlass = new BreakGlassService(db, audit, clock, box, config.breakGlass);
  const policy = (): CompiledPolicy => input.policy;
  const access = new AccessControl(policy, relationships, breakGlass, audit, clock);
  const oidc: CredentialVerifier | undefined = config.oidc === undefined
    ? undefined
    : new OidcVerifier(checkedOidcSettings(config.oidc), { clock, ...(input.oidcKeys !== undefined ? { keys: input.oidcKeys } : {}) });
  const authenticator = new Authenticator({
    sessions: { verify: async (token) => {
      const principal = await sessions.authenticate(token);
      return principal === undefined ? { ok: false, reason: 'auth.session_invalid' } : { ok: true, principal };
    } },
    apiKeys: { verify: (token, channel) => apiKeys.authenticate(token, channel) },
    ...(oidc !== undefined ? { oidc } : {}),
  }, audit);
  return { accounts, sessions, mfa, apiKeys, relationships, breakGlass, access, authenticator, policy };
}

/** The OIDC role map may only name person roles Ward knows: a typo must stop the start, not grant nothing silently. */
function checkedOidcSettings(oidc: NonNullable<WardConfig['oidc']>): OidcVerifierSettings {
  for (const [claim, mapped] of Object.entries(oidc.roleMap)) {
    const bad = mapped.find((r) => !isPersonRole(r));
    if (bad !== undefined) throw new WardError('config.invalid', `oidc.roleMap.${claim}: ${JSON.stringify(bad)} is not a role for people; roles are: ${personRoles.join(', ')}`);
  }
  return oidc;
}

/**
 * Refuse a database that is not this installation's, or whose audit log is behind what was
 * already signed: serving on it would start a new history and hide the old one.
 */
async function checkDatabaseBelongs(database: WardDatabase, signingKey: KeyObject, checkpointFile: CheckpointFile): Promise<void> {
  const publicKey = createPublicKey(signingKey);
  const meta = await database.db.selectFrom('ward_meta').select('value').where('key', '=', 'audit_key_id').executeTakeFirst();
  if (meta?.value !== keyIdOf(publicKey)) {
    throw new WardError('init.database_mismatch', `the database (${database.location}) was not initialized with this data directory's audit key: wrong DATABASE_URL or a replaced database`);
  }
  const latest = newestValidCheckpoint(checkpointFile.read().checkpoints, publicKey);
  if (latest === undefined) return;
  const head = await readAuditHead(database.db);
  const at = await database.db.selectFrom('audit_entry').select('chain_hash').where('seq', '=', latest.treeSize).executeTakeFirst();
  if (head.seq < latest.treeSize || (latest.treeSize > 0 && at?.chain_hash !== latest.chainHash)) {
    throw new WardError('audit.log_behind_checkpoint', `the audit log does not contain the ${latest.treeSize} entries its latest signed checkpoint covers; run \`ward audit verify\``);
  }
}

export async function startWard(config: WardConfig, options: { logger?: Logger; clock?: Clock } = {}): Promise<RunningWard> {
  // TLS files are read and checked once, before anything opens (one-line errors `tls.*`).
  const https = config.tls === undefined ? undefined : tlsServerOptions(config.tls, config.dataDir);
  if (https === undefined && !config.allowPlainHttp && !(await isLoopbackHost(config.host))) {
    throw new WardError('config.plain_http_refused', `refusing plain HTTP on ${config.host}: only loopback may be served without TLS (configure tls, or set allowPlainHttp to override)`);
  }
  const logger = options.logger ?? createLogger(config);
  const rt = await openRuntime(config, options);
  let draining = false;
  // A failed checkpoint (unwritable checkpoint file, integrity violation) means the unsigned
  // window is growing: stop reporting ready until a checkpoint succeeds again.
  let checkpointHealthy = true;
  const schedule = new CheckpointSchedule(config.checkpointIntervalSeconds * 1000, config.checkpointEveryEntries, Date.now());
  const tick = (): void => {
    const entries = rt.audit.stats.entries;
    if (!schedule.due(Date.now(), entries)) return;
    rt.audit.checkpoint().then(
      () => {
        checkpointHealthy = true;
        schedule.finished(true, entries);
      },
      (e: unknown) => {
        checkpointHealthy = false;
        schedule.finished(false, entries);
        logger.error({ code: e instanceof WardError ? e.code : 'audit.checkpoint_failed' }, 'audit checkpoint failed; not ready until one succeeds');
      },
    );
  };
  let timer: NodeJS.Timeout | undefined;
  let app: FastifyInstance | undefined;
  let address: string;
  let models: ModelRegistry | undefined;
  try {
    const built = await buildGateway({ config, audit: rt.audit, clock: rt.clock, records: rt.records, box: rt.box });
    models = built.registry;
    if (models.list().length === 0) logger.warn('no model configured: set models in ward.json, or embeddedModel.path (WARD_EMBEDDED_MODEL) to a GGUF file');
    app = await buildServer({
      gateway: built.gateway,
      gatewayBodyLimit: config.gateway.bodyLimitBytes,
      logger,
      db: rt.database.db,
      audit: rt.audit,
      accounts: rt.accounts,
      sessions: rt.sessions,
      mfa: rt.mfa,
      authenticator: rt.authenticator,
      access: rt.access,
      breakGlass: rt.breakGlass,
      records: rt.records,
      trustedProxies: config.trustedProxies,
      ready: async () => {
        if (draining || !checkpointHealthy) return false;
        await rt.database.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();
        return true;
      },
      ...(https !== undefined ? { https } : {}),
    });
    // The policy version in force is on record from the first entry of every run.
    await rt.audit.append({ who: { id: SYSTEM_PRINCIPAL.id, kind: 'system' }, action: 'system.start', outcome: 'success', details: { policy: rt.policy().version, policyDigest: rt.policyDigest.slice(0, 32), views: rt.views().version, viewsDigest: rt.viewsDigest.slice(0, 32), keyProvider: rt.keyRing.providerName } });
    // Record the active key-encryption key now, so a misconfigured provider fails the start.
    await rt.keyRing.activeKekVersion();
    timer = setInterval(tick, 1000);
    timer.unref();
    address = await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    clearInterval(timer);
    await app?.close().catch(() => undefined);
    await models?.close();
    await rt.audit.close().catch(() => undefined);
    await rt.database.close();
    await rt.closeKeys();
    if (e instanceof WardError) throw e;
    throw new WardError('server.listen_failed', `cannot listen on ${config.host}:${config.port}`, { cause: e });
  }
  const server = app;
  const registry = models;
  logger.info({ address, database: rt.database.dialect, auditKey: keyIdOf(readVerifyKey(rt.paths.verifyKey)) }, 'ward is serving');
  let stopping: Promise<void> | undefined;
  return {
    app: server,
    address,
    audit: rt.audit,
    shutdown(reason: string) {
      stopping ??= (async () => {
        draining = true;
        clearInterval(timer);
        logger.info({ reason }, 'shutting down');
        try {
          // Fail readiness first and give load balancers a moment to stop sending traffic, so
          // connections are not reset in the accept queue; then finish in-flight requests.
          if (config.shutdownGraceSeconds > 0) await new Promise((r) => setTimeout(r, config.shutdownGraceSeconds * 1000));
          // Requests already accepted are read and answered; connections left idle (keep-alive)
          // are swept every second so they cannot hold the shutdown open.
          const sweep = setInterval(() => server.server.closeIdleConnections(), 1000);
          try {
            await server.close();
          } finally {
            clearInterval(sweep);
          }
          await registry.close();
          await rt.audit.append({ who: { id: SYSTEM_PRINCIPAL.id, kind: 'system' }, action: 'system.stop', outcome: 'success', reason: `system.${reason.toLowerCase()}` }).catch(() => undefined);
          await rt.audit.close();
        } finally {
          await rt.database.close();
          await rt.closeKeys();
        }
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}
