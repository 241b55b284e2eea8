import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WardError } from '../shared/ward-error.js';
import { wardConfigSchema } from './ward-config.js';
import type { WardConfig } from './ward-config.js';

export interface ConfigSources {
  /** Values from command-line flags (already typed). */
  flags?: { dataDir?: string | undefined; port?: number | undefined; host?: string | undefined };
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export const CONFIG_FILE_NAME = 'ward.json';
export const DEFAULT_DATA_DIR = 'ward-data';

/** Resolve the data directory alone (needed before the config file inside it can be read). */
export function resolveDataDir(sources: ConfigSources): string {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  return resolve(cwd, sources.flags?.dataDir ?? env.WARD_DATA ?? DEFAULT_DATA_DIR);
}

export function loadConfig(sources: ConfigSources = {}): WardConfig {
  const env = sources.env ?? process.env;
  const dataDir = resolveDataDir(sources);
  let fileValues: Record<string, unknown> = {};
  const file = join(dataDir, CONFIG_FILE_NAME);
  if (existsSync(file)) {
    try {
      fileValues = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      throw new WardError('config.invalid', `${CONFIG_FILE_NAME} in the data directory is not valid JSON`);
    }
  }
  const envValues: Record<string, unknown> = {};
  if (env.DATABASE_URL) envValues.databaseUrl = env.DATABASE_URL;
  if (env.WARD_HOST) envValues.host = env.WARD_HOST;
  if (env.WARD_PORT) envValues.port = Number(env.WARD_PORT);
  if (env.WARD_LOG_LEVEL) envValues.logLevel = env.WARD_LOG_LEVEL;
  // A path in the environment is read from the working directory, as a shell user expects.
  if (env.WARD_EMBEDDED_MODEL) envValues.embeddedModel = { ...(fileValues.embeddedModel as object | undefined), path: resolve(sources.cwd ?? process.cwd(), env.WARD_EMBEDDED_MODEL) };
  if (env.WARD_ALLOW_PLAIN_HTTP) envValues.allowPlainHttp = env.WARD_ALLOW_PLAIN_HTTP === '1' || env.WARD_ALLOW_PLAIN_HTTP === 'true';
  const flagValues: Record<string, unknown> = {};
  if (sources.flags?.port !== undefined) flagValues.port = sources.flags.port;
  if (sources.flags?.host !== undefined) flagValues.host = sources.flags.host;
  const merged = { ...fileValues, ...envValues, ...flagValues, dataDir };
  const parsed = wardConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || 'configuration';
    throw new WardError('config.invalid', `invalid configuration: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
