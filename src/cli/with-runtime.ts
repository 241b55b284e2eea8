import { loadConfig } from '../config/load-config.js';
import { openRuntime } from '../main.js';
import type { WardRuntime } from '../main.js';
import type { CliIo } from './cli-io.js';

/** Open the runtime for one command, run it, and always flush the audit log and close. */
export async function withRuntime<T>(io: CliIo, opts: { data?: string | undefined }, work: (rt: WardRuntime) => Promise<T>): Promise<T> {
  const config = loadConfig({ flags: { dataDir: opts.data }, env: io.env, cwd: io.cwd });
  const rt = await openRuntime(config);
  try {
    return await work(rt);
  } finally {
    await rt.audit.close();
    await rt.database.close();
  }
}
