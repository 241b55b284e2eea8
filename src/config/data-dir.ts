/** Where things live inside the data directory. Relative names only; the directory is configurable. */
import { join } from 'node:path';

export interface WardPaths {
  dataDir: string;
  database: string;
  keyFile: string;
  signingKey: string;
  verifyKey: string;
  checkpointFile: string;
  configFile: string;
  /** The access policy an administrator edits (`ward policy check` validates it). */
  policyFile: string;
  /** The data views (minimum necessary) the policy's permits name. */
  viewsFile: string;
}

export function wardPaths(dataDir: string): WardPaths {
  return {
    dataDir,
    database: join(dataDir, 'ward.db'),
    keyFile: join(dataDir, 'keys', 'local-kek.json'),
    signingKey: join(dataDir, 'keys', 'audit-signing-key.pem'),
    verifyKey: join(dataDir, 'keys', 'audit-signing-key.pub.pem'),
    checkpointFile: join(dataDir, 'audit-checkpoints.jsonl'),
    configFile: join(dataDir, 'ward.json'),
    policyFile: join(dataDir, 'policy.json'),
    viewsFile: join(dataDir, 'views.json'),
  };
}
