/**
 * The HTTP server: request ids, authentication, problem+json errors, security headers, and
 * the routes. It receives every collaborator ready-made from the composition root.
 */
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { WardSchema } from '../storage/schema.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AccountService } from '../auth/account-service.js';
import type { SessionService } from '../auth/session-service.js';
import { newRequestId } from '../shared/ids.js';
import { PROBLEM_CONTENT_TYPE, problem, problemFromError } from './problem.js';
import { healthRoutes } from './routes/health-routes.js';
import { authRoutes } from './routes/auth-routes.js';
import { auditRoutes } from './routes/audit-routes.js';
import './http-context.js';

export interface ServerDeps {
  logger: FastifyBaseLogger;
  db: Kysely<WardSchema>;
  audit: AuditLog;
  accounts: AccountService;
  sessions: SessionService;
  /** True while the server should receive traffic (database reachable, not shutting down). */
  ready: () => Promise<boolean>;
}

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    // A caller's own request id is kept when it is a plain token (so traces join up);
    // anything else is replaced, so log lines never carry caller-chosen text.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : newRequestId();
    },
    requestIdHeader: false,
    bodyLimit: 1_048_576,
    trustProxy: false,
    disableRequestLogging: true,
    return503OnClosing: true,
  });

  // One PHI-free access log line per response: method, route pattern (never the raw URL,
  // whose query string may hold identifiers), status, time.
  app.addHook('onResponse', (req, reply, done) => {
    req.log.info({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    done();
  });

  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-request-id', req.id);
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    reply.header('cross-origin-resource-policy', 'same-origin');
    done(null, payload);
  });

  app.setErrorHandler((error, req, reply) => {
    const doc = problemFromError(error, req.id);
    if (doc.status >= 500) {
      // Log the code and error class only; messages and stacks of unexpected errors may hold PHI.
      req.log.error({ code: doc.code, err: { type: (error as Error | undefined)?.constructor?.name ?? 'unknown' } }, 'request failed');
    }
    void reply.status(doc.status).type(PROBLEM_CONTENT_TYPE).send(doc);
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).type(PROBLEM_CONTENT_TYPE).send(problem(404, 'http.not_found', req.id, 'no such route'));
  });

  await app.register(healthRoutes, { ready: deps.ready });
  await app.register(authRoutes, { accounts: deps.accounts, sessions: deps.sessions });
  await app.register(auditRoutes, { db: deps.db, audit: deps.audit, sessions: deps.sessions });
  return app;
}
