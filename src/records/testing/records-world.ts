/**
 * Test world for records suites: an audit world (migrated database of the given dialect,
 * AuditLog, fixed clock), a real local key file and LocalKeyProvider in a temporary folder,
 * the shipped default views, and the records services wired as in production.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDialect } from '../../storage/testing/test-databases.js';
import { createAuditWorld } from '../../audit/testing/audit-world.js';
import type { AuditWorld } from '../../audit/testing/audit-world.js';
import { createLocalKeyFile } from '../../storage/local-key-file.js';
import { LocalKeyProvider } from '../../storage/keys/local-key-provider.js';
import { DATA_VIEW_NAMES } from '../../policy/data-views.js';
import { parseViews } from '../views/parse-views.js';
import type { ViewCatalog } from '../views/view-catalog.js';
import { buildRecords } from '../build-records.js';
import type { RecordsServices } from '../build-records.js';
import { readImportSource } from '../import/read-import-source.js';
import type { ImportReport } from '../record-importer.js';
import type { RecordsSettings } from '../records-service.js';

export const DEFAULT_VIEWS_TEXT = readFileSync(new URL('../../../data/views/default-views.json', import.meta.url), 'utf8');
export { SYNTHEA_BULK, SYNTHEA_BUNDLES } from './synthea-data.js';
export const WHO = { id: 'os:tester', kind: 'person' } as const;

export interface RecordsWorld extends RecordsServices {
  w: AuditWorld;
  provider: LocalKeyProvider;
  keyFile: string;
  views: ViewCatalog;
  importPath(path: string, atomic?: boolean): Promise<ImportReport>;
  /** The audit bodies recorded for `action`, oldest first (after a flush). */
  entries(action: string): Promise<Record<string, unknown>[]>;
  dispose(): Promise<void>;
}

export async function createRecordsWorld(dialect: TestDialect, settings: RecordsSettings = { retentionYears: 0 }): Promise<RecordsWorld> {
  const w = await createAuditWorld(dialect);
  const dir = mkdtempSync(join(tmpdir(), 'ward-records-'));
  const keyFile = join(dir, 'local-kek.json');
  createLocalKeyFile(keyFile, w.clock.now());
  const provider = await LocalKeyProvider.open({ file: keyFile });
  const views = parseViews(DEFAULT_VIEWS_TEXT, { names: DATA_VIEW_NAMES });
  const services = buildRecords({ db: w.t.db, audit: w.log, clock: w.clock, provider, views: () => views, settings });
  return {
    ...services,
    w,
    provider,
    keyFile,
    views,
    importPath: (path, atomic = false) => services.importer.import(readImportSource(path), { atomic, who: WHO }),
    async entries(action) {
      await w.log.flush();
      const rows = await w.t.db.selectFrom('audit_entry').select('body').where('action', '=', action).orderBy('seq').execute();
      return rows.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    },
    async dispose() {
      await provider.close().catch(() => undefined);
      await w.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
