import { loadConfig } from '../config/load-config.js';
import { openRuntime } from '../main.js';
import type { WardRuntime } from '../main.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import { isWardError } from '../shared/ward-error.js';
import type { CliIo } from './cli-io.js';
import { consoleUser } from './console-user.js';

/**
 * Open the runtime for one command, run it, and always flush the audit log and close. When
 * `action` names what the command changes, a refusal (an unknown username, a bad role) is
 * audited too, as the person at the console, with the error's code: failed administrative
 * attempts belong in the trail as much as successful ones.
 */
export async function withRuntime<T>(io: CliIo, opts: { data?: string | undefined }, work: (rt: WardRuntime) => Promise<T>, action?: string): Promise<T> {
  const config = loadConfig({ flags: { dataDir: opts.data }, env: io.env, cwd: io.cwd });
  const rt = await openRuntime(config);
  try {
    return await work(rt);
  } catch (e) {
    if (action !== undefined && isWardError(e)) {
      const outcome = e.status < 500 ? 'denied' : 'error';
      await rt.audit.append(auditEntryOf(consoleUser(), action, outcome, { reason: e.code })).catch(() => undefined);
    }
    throw e;
  } finally {
    await rt.audit.close();
    await rt.database.close();
    await rt.closeKeys();
  }
}
