/**
 * The ordered list of migrations. Listed statically (not read from the file system) so the
 * set is fixed at build time and cannot be widened by a file dropped into a folder.
 * Names sort in application order; never rename or edit a migration that has shipped.
 */
import type { Migration } from 'kysely';
import * as m0001 from './0001-foundation.js';
import * as m0002 from './0002-identity-access.js';
import * as m0003 from './0003-records.js';

export const migrations: Record<string, Migration> = {
  '0001-foundation': m0001,
  '0002-identity-access': m0002,
  '0003-records': m0003,
};
