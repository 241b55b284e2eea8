/**
 * The process logger (pino, JSON lines). Redaction is a backstop: Ward's own log calls pass
 * ids and codes only, and these paths make sure credentials or bodies never reach a line
 * even if a future call passes them.
 */
import pino from 'pino';
import type { Logger } from 'pino';

/** Log redaction: credentials never reach a log line, whatever a future log call passes. */
const REDACT = [
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'password', 'newPassword', 'currentPassword',
  'token', '*.password', '*.token', 'body', '*.body', 'text', '*.text',
];

export function createLogger(config: { logLevel: string }, destination?: pino.DestinationStream): Logger {
  return pino({ level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'ward' } }, destination);
}

