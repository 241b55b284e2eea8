/**
 * HTTP Strict Transport Security (RFC 6797): over TLS, every response tells browsers to use
 * HTTPS only for a year, subdomains included, so a later visit cannot be downgraded to plain
 * HTTP and read in transit (45 CFR 164.312(e)(1); NIST SP 800-52r2 section 3.5). Never sent
 * over plain HTTP: RFC 6797 section 7.2 says a browser ignores it there, and a loopback
 * development server must not pin `localhost` to HTTPS for every other local app.
 */
import type { FastifyReply, onSendHookHandler } from 'fastify';

export const HSTS_HEADER = 'strict-transport-security';
export const HSTS_VALUE = 'max-age=31536000; includeSubDomains';

export function setHsts(reply: FastifyReply): void {
  reply.header(HSTS_HEADER, HSTS_VALUE);
}

/** An `onSend` hook for servers that serve TLS. */
export const hstsOnSend: onSendHookHandler = (_req, reply, payload, done) => {
  setHsts(reply);
  done(null, payload);
};
