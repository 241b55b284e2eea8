/**
 * The records services over one database, audit log and key provider, wired the same way for
 * the server, the CLI, tests and benchmarks. The composition root chooses the key provider
 * and reads the views file; this only connects the parts.
 */
import type { Kysely } from 'kysely';
import type { WardSchema } from '../storage/schema.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { KeyProvider } from '../storage/keys/key-provider.js';
import { DataKeyRing } from '../storage/data-key-ring.js';
import type { FieldSealer } from '../storage/envelope-cipher.js';
import type { Clock } from '../shared/clock.js';
import { BlindIndex } from './blind-index.js';
import { RecordStore } from './record-store.js';
import { RecordImporter } from './record-importer.js';
import { RecordsService } from './records-service.js';
import type { RecordsSettings } from './records-service.js';
import type { ViewCatalog } from './views/view-catalog.js';

export interface RecordsServices {
  keyRing: DataKeyRing;
  store: RecordStore;
  importer: RecordImporter;
  records: RecordsService;
}

export function buildRecords(input: {
  db: Kysely<WardSchema>;
  audit: AuditLog;
  clock: Clock;
  /** Wraps new data keys. */
  provider: KeyProvider;
  /** Providers still holding older wraps (unwrap and rewrap only). */
  others?: readonly KeyProvider[];
  views: () => ViewCatalog;
  settings: RecordsSettings;
  /** Benchmarks only: compare against a sealer other than AES-256-GCM. */
  sealer?: FieldSealer;
}): RecordsServices {
  const keyRing = new DataKeyRing(input.db, input.provider, input.clock, input.others ?? []);
  const store = new RecordStore(input.db, keyRing, new BlindIndex(keyRing), input.clock, input.sealer);
  const importer = new RecordImporter(store, input.audit);
  const records = new RecordsService(input.db, store, input.views, input.audit, input.clock, input.settings);
  return { keyRing, store, importer, records };
}
