/**
 * A child process for the crash test: appends audit entries from many concurrent writers as
 * fast as it can, signs checkpoints often, and prints `ack <seq> <requestId>` for every
 * entry whose append has been acknowledged. The parent kills it with SIGKILL at a random
 * moment and then checks that every acknowledged entry survived.
 *   argv: <sqlite|postgres> <file-or-url> <checkpoint-file> <private-key-pem-file> <round>
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { openSqlite } from '../../storage/open-sqlite.js';
import { openPostgres } from '../../storage/open-postgres.js';
import { AuditLog } from '../audit-log.js';
import { CheckpointFile } from '../checkpoint-file.js';
import { systemClock } from '../../shared/clock.js';
import { sampleEntry } from './audit-world.js';

const [kind, target, checkpointPath, keyPath, round] = process.argv.slice(2);
if (!kind || !target || !checkpointPath || !keyPath || !round) throw new Error('usage: crash-writer kind target checkpoints key round');
const database = kind === 'sqlite' ? openSqlite({ file: target }) : openPostgres({ url: target });
const log = new AuditLog({
  db: database.db,
  clock: systemClock,
  signingKey: createPrivateKey(readFileSync(keyPath, 'utf8')),
  checkpointSink: new CheckpointFile(checkpointPath),
});

let n = 0;
async function writer(w: number): Promise<void> {
  for (;;) {
    const i = n++;
    const requestId = `r${round}-${w}-${i}`;
    const receipt = await log.append(sampleEntry(i, { requestId }));
    process.stdout.write(`ack ${receipt.seq} ${requestId}\n`);
  }
}
setInterval(() => {
  log.checkpoint().catch(() => undefined);
}, 25);
process.stdout.write('ready\n');
await Promise.all(Array.from({ length: 32 }, (_, w) => writer(w)));
