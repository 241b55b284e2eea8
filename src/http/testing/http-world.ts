/**
 * An in-process Ward HTTP server over a real test database, with its log lines captured so
 * tests can prove that no PHI or credential reaches them.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { TestDialect } from '../../storage/testing/test-databases.js';
import { createAuditWorld } from '../../audit/testing/audit-world.js';
import type { AuditWorld } from '../../audit/testing/audit-world.js';
import { AccountService } from '../../auth/account-service.js';
import { SessionService } from '../../auth/session-service.js';
import type { Principal } from '../../auth/principal.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { BoundedConcurrency } from '../../auth/bounded-concurrency.js';
import { buildServer } from '../build-server.js';
import { createLogger } from '../create-logger.js';

export interface HttpWorld extends AuditWorld {
  app: FastifyInstance;
  accounts: AccountService;
  sessions: SessionService;
  logs: string[];
  /** Create a user, change the one-time password, sign in; returns a bearer token. */
  userWithToken(username: string, roles: string[]): Promise<{ token: string; id: string; password: string }>;
}

const ADMIN: Principal = { id: 'ward', kind: 'system', roles: [] };

export async function createHttpWorld(dialect: TestDialect, options: { auditLog?: (w: AuditWorld) => AuditLog; passwordVerifications?: BoundedConcurrency } = {}): Promise<HttpWorld> {
  const w = await createAuditWorld(dialect);
  const logs: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { logs.push(chunk.toString('utf8')); cb(); } });
  const logger = createLogger({ logLevel: 'debug' }, sink);
  const audit = options.auditLog?.(w) ?? w.log;
  const accounts = new AccountService(w.t.db, w.log, w.clock);
  const sessions = new SessionService(w.t.db, w.log, accounts, w.clock, { idleMinutes: 15, absoluteHours: 8 }, options.passwordVerifications);
  const app = await buildServer({ logger, db: w.t.db, audit, accounts, sessions, ready: () => Promise.resolve(true) });
  return {
    ...w,
    app, accounts, sessions, logs,
    async userWithToken(username, roles) {
      const { account, oneTimePassword } = await accounts.create({ username, roles }, ADMIN);
      const password = `correct horse battery ${username} staple`;
      const s1 = await sessions.login(username, oneTimePassword);
      const r = await app.inject({ method: 'POST', url: '/v1/auth/password', headers: { authorization: `Bearer ${s1.token}` }, payload: { currentPassword: oneTimePassword, newPassword: password } });
      if (r.statusCode !== 204) throw new Error(`password change failed: ${r.statusCode}`);
      const s2 = await sessions.login(username, password);
      return { token: s2.token, id: account.id, password };
    },
    async dispose() {
      await app.close();
      await w.dispose();
    },
  };
}
