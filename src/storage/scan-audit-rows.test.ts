/**
 * A PostgreSQL scanner whose connection fails before anyone uses it: the failure surfaces on
 * the first query, never as an unhandled rejection (which would end a verifier process).
 */
import { describe, expect, it } from 'vitest';
import { openAuditRowScanner } from './scan-audit-rows.js';

describe('openAuditRowScanner (PostgreSQL)', () => {
  it('reports a failed connection on first use, not as an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      // Port 1 on loopback: nothing listens, the connection is refused at once.
      const scanner = openAuditRowScanner({ kind: 'postgres', url: 'postgres://ward@127.0.0.1:1/ward' });
      await new Promise((r) => setTimeout(r, 300));
      expect(unhandled).toEqual([]);
      await expect(scanner.chainHashAt(1)).rejects.toThrow();
      await scanner.close().catch(() => undefined);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
