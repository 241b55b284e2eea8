import type { Kysely } from 'kysely';
import type { WardSchema } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

/** Enough to open the same database again from another thread or process. */
export type ConnectionInfo = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

/** An open database: Kysely over SQLite or PostgreSQL, with the same schema and migrations. */
export interface WardDatabase {
  readonly db: Kysely<WardSchema>;
  readonly dialect: Dialect;
  /** Human-readable location without credentials (for logs and `ward status`). */
  readonly location: string;
  readonly connection: ConnectionInfo;
  close(): Promise<void>;
}
