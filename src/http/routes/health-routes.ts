import type { FastifyPluginAsync } from 'fastify';
import { PROBLEM_CONTENT_TYPE, problem } from '../problem.js';

/** Liveness (`/healthz`: the process answers) and readiness (`/readyz`: send traffic here). */
export const healthRoutes: FastifyPluginAsync<{ ready: () => Promise<boolean> }> = async (app, opts) => {
  app.get('/healthz', { config: { access: { kind: 'public' } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { access: { kind: 'public' } } }, async (req, reply) => {
    const ready = await opts.ready().catch(() => false);
    if (ready) return { status: 'ready' };
    return reply.status(503).type(PROBLEM_CONTENT_TYPE).send(problem(503, 'server.not_ready', req.id, 'not ready to serve requests'));
  });
};
