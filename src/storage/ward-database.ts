import type { Kysely } from 'kysely';
import type { WardSchema } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

/** An open database: Kysely over SQLite or PostgreSQL, with the same schema and migrations. */
export interface WardDatabase {
  readonly db: Kysely<WardSchema>;
  readonly dialect: Dialect;
  /** Human-readable location without credentials (for logs and `ward status`). */
  readonly location: string;
  close(): Promise<void>;
}
