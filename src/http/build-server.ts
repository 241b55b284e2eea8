/**
 * The HTTP server: request ids, authentication, problem+json errors, security headers, and
 * the routes. It receives every collaborator ready-made from the composition root.
 */
import Fastify from 'fastify';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { WardSchema } from '../storage/schema.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AccountService } from '../auth/account-service.js';
import type { SessionService } from '../auth/session-service.js';
import type { MfaService } from '../auth/mfa-service.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { AccessControl } from '../auth/access-control.js';
import type { BreakGlassService } from '../auth/break-glass-service.js';
import { WardError } from '../shared/ward-error.js';
import { newRequestId } from '../shared/ids.js';
import { isWardError } from '../shared/ward-error.js';
import { PROBLEM_CONTENT_TYPE, problem, problemFromError } from './problem.js';
import { healthRoutes } from './routes/health-routes.js';
import { authRoutes } from './routes/auth-routes.js';
import { auditRoutes } from './routes/audit-routes.js';
import { breakGlassRoutes } from './routes/break-glass-routes.js';
import { accessRoutes } from './routes/access-routes.js';
import { recordsRoutes } from './routes/records-routes.js';
import type { RecordsService } from '../records/records-service.js';
import type { ChatGateway } from '../gateway/chat-gateway.js';
import { modelRoutes } from './routes/model-routes.js';
import { accessHook } from './authenticate.js';
import { hstsOnSend, setHsts } from './hsts.js';
import './http-context.js';
import type { RouteAccess } from './route-access.js';

/** A route and its declared access rule, for the authorization matrix and documentation. */
export interface DeclaredRoute {
  method: string;
  url: string;
  access: RouteAccess;
}

declare module 'fastify' {
  interface FastifyInstance {
    declaredRoutes: readonly DeclaredRoute[];
  }
}

export interface ServerDeps {
  logger: FastifyBaseLogger;
  db: Kysely<WardSchema>;
  audit: AuditLog;
  accounts: AccountService;
  sessions: SessionService;
  mfa: MfaService;
  authenticator: Authenticator;
  access: AccessControl;
  breakGlass: BreakGlassService;
  /** Patient records, read through the data view each permit names. */
  records: RecordsService;
  /** The model gateway (OpenAI-compatible API). */
  gateway: ChatGateway;
  /** Largest body accepted by the model API, bytes (`gateway.bodyLimitBytes`). */
  gatewayBodyLimit: number;
  /** Reverse proxies whose `X-Forwarded-For` is believed (IPs or CIDRs); none by default. */
  trustedProxies?: readonly string[];
  /** True while the server should receive traffic (database reachable, not shutting down). */
  ready: () => Promise<boolean>;
  /** Serve HTTPS with these options (`tls-server-options.ts`); absent: plain HTTP. */
  https?: HttpsServerOptions;
}

/**
 * RFC 9562 textual form: 32 hex digits in 8-4-4-4-12 groups (any version, nil and max
 * included). The request id lands in log lines and the immutable audit log, so a caller's
 * value is kept only when it cannot spell a name or a date of birth.
 */
/** Routes of the OpenAI-compatible model API. */
const OPENAI_ROUTES = /^\/v1\/(chat\/completions|models)$/;

const UUID_TEXT = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/** Headers every response carries, including those Fastify answers before any hook runs. */
function setSecurityHeaders(reply: FastifyReply, requestId: string): void {
  reply.header('x-request-id', requestId);
  reply.header('cache-control', 'no-store');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
  reply.header('cross-origin-resource-policy', 'same-origin');
}

function answerFrameworkError(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  req.log.info({ method: req.method, route: 'unmatched', status: 400, code: error.code }, 'request');
  setSecurityHeaders(reply, req.id);
  void reply.status(400).type(PROBLEM_CONTENT_TYPE).send(problem(400, 'request.invalid', req.id, 'the request URL could not be read'));
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    // A caller's own request id is kept when it is a UUID (so traces join up); anything else
    // is replaced, so logs and the audit trail never carry caller-chosen text.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && UUID_TEXT.test(given) ? given : newRequestId();
    },
    requestIdHeader: false,
    bodyLimit: 1_048_576,
    // The client address keys sign-in throttling and lands in the audit log: it is taken from
    // X-Forwarded-For only when the connection comes from a configured proxy.
    trustProxy: deps.trustedProxies !== undefined && deps.trustedProxies.length > 0 ? [...deps.trustedProxies] : false,
    disableRequestLogging: true,
    return503OnClosing: true,
    // At shutdown, do not destroy "idle" connections at once: a connection accepted just before
    // the listener closed counts as idle until its request is parsed, and would be reset. The
    // shutdown sweeps idle connections itself once in-flight requests have been read.
    forceCloseConnections: false,
    // Errors Fastify raises before routing (a malformed URL such as `/%ZZ?patient=...`): its
    // default answer echoes the raw URL, which may hold identifiers. No route hooks run for
    // these, so the headers and the access log line are written here.
    frameworkErrors: deps.https === undefined ? answerFrameworkError : (error, req, reply) => {
      setHsts(reply);
      answerFrameworkError(error, req, reply);
    },
    https: deps.https ?? null,
  });

  // One PHI-free access log line per response: method, route pattern (never the raw URL,
  // whose query string may hold identifiers), status, time.
  app.addHook('onResponse', (req, reply, done) => {
    req.log.info({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    done();
  });

  app.addHook('onSend', (req, reply, payload, done) => {
    setSecurityHeaders(reply, req.id);
    done(null, payload);
  });
  if (deps.https !== undefined) app.addHook('onSend', hstsOnSend);

  app.setErrorHandler((error, req, reply) => {
    const doc = problemFromError(error, req.id);
    if (doc.status >= 500) {
      // Log the code and error class only; messages and stacks of unexpected errors may hold PHI.
      req.log.error({ code: doc.code, err: { type: (error as Error | undefined)?.constructor?.name ?? 'unknown' } }, 'request failed');
    }
    const retryAfter = isWardError(error) ? error.extra.retryAfterSeconds : undefined;
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
    // The model API's callers are OpenAI SDKs: they read `error.{message,code}` (an RFC 9457
    // extension member here), so a refusal reaches the application as Ward's code.
    const body = OPENAI_ROUTES.test(req.routeOptions.url ?? '') ? { ...doc, error: { message: doc.detail ?? doc.title, type: 'ward_error', code: doc.code } } : doc;
    void reply.status(doc.status).type(PROBLEM_CONTENT_TYPE).send(body);
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).type(PROBLEM_CONTENT_TYPE).send(problem(404, 'http.not_found', req.id, 'no such route'));
  });

  // Nothing is reachable by omission: a route that does not declare its access rule stops
  // the server from being built.
  const declared: DeclaredRoute[] = [];
  app.decorate('declaredRoutes', declared);
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (access === undefined) {
      throw new WardError('policy.route_undeclared', `route ${route.method.toString()} ${route.url} declares no access rule`);
    }
    for (const method of [route.method].flat()) if (method !== 'HEAD') declared.push({ method, url: route.url, access });
  });
  app.addHook('preHandler', accessHook({ authenticator: deps.authenticator, access: deps.access, audit: deps.audit }));

  await app.register(healthRoutes, { ready: deps.ready });
  await app.register(authRoutes, { accounts: deps.accounts, sessions: deps.sessions, mfa: deps.mfa });
  await app.register(auditRoutes, { db: deps.db, audit: deps.audit });
  await app.register(breakGlassRoutes, { breakGlass: deps.breakGlass, audit: deps.audit });
  await app.register(accessRoutes, { access: deps.access, audit: deps.audit });
  await app.register(recordsRoutes, { records: deps.records });
  await app.register(modelRoutes, { gateway: deps.gateway, bodyLimit: deps.gatewayBodyLimit });
  return app;
}
