import type { CliIo } from './cli-io.js';

/**
 * The last line of defence for errors nothing else caught (a callback that throws, a
 * rejected promise nobody awaited): Node's default prints the stack trace and message, which
 * may quote PHI, a connection string or a key path. Instead: one fixed line naming only the
 * error class, and exit 1.
 */
export function installLastResortHandlers(events: NodeJS.EventEmitter, io: Pick<CliIo, 'err'>, exit: (code: number) => void): void {
  let reported = false;
  const onUnexpected = (error: unknown): void => {
    if (!reported) {
      reported = true;
      io.err(`ward: unexpected error (${errorClassName(error)}); no details are printed because they may contain sensitive data\n`);
    }
    exit(1);
  };
  events.on('uncaughtException', onUnexpected);
  events.on('unhandledRejection', onUnexpected);
}

/** The error's class name when it looks like one; anything else (it is settable) is not printed. */
function errorClassName(error: unknown): string {
  const name = error instanceof Error ? error.name : undefined;
  return name !== undefined && /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/.test(name) ? name : 'unknown';
}
