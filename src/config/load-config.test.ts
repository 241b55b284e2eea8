import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './load-config.js';

function dirWith(config?: string): string {
  const d = mkdtempSync(join(tmpdir(), 'ward-cfg-'));
  if (config !== undefined) writeFileSync(join(d, 'ward.json'), config);
  return d;
}

describe('loadConfig', () => {
  it('uses safe defaults: loopback, port 8080, SQLite, 60 s checkpoints', () => {
    const d = dirWith();
    const c = loadConfig({ flags: { dataDir: d }, env: {} });
    expect(c).toMatchObject({ dataDir: d, host: '127.0.0.1', port: 8080, checkpointIntervalSeconds: 60, allowPlainHttp: false });
    expect(c.databaseUrl).toBeUndefined();
  });

  it('layers flags over environment over the config file', () => {
    const d = dirWith(JSON.stringify({ port: 9000, logLevel: 'warn' }));
    expect(loadConfig({ flags: { dataDir: d }, env: {} }).port).toBe(9000);
    expect(loadConfig({ flags: { dataDir: d }, env: { WARD_PORT: '9100' } }).port).toBe(9100);
    expect(loadConfig({ flags: { dataDir: d, port: 9200 }, env: { WARD_PORT: '9100' } }).port).toBe(9200);
    expect(loadConfig({ flags: { dataDir: d }, env: {} }).logLevel).toBe('warn');
  });

  it('takes the data directory from WARD_DATA', () => {
    const d = dirWith();
    expect(loadConfig({ env: { WARD_DATA: d } }).dataDir).toBe(d);
  });

  it('rejects unknown keys, bad values and broken JSON with a message naming the setting', () => {
    expect(() => loadConfig({ flags: { dataDir: dirWith('{"prot": 1}') }, env: {} })).toThrow(/invalid configuration/);
    expect(() => loadConfig({ flags: { dataDir: dirWith('{"port": 70000}') }, env: {} })).toThrow(/port/);
    expect(() => loadConfig({ flags: { dataDir: dirWith('{"checkpointIntervalSeconds": 600}') }, env: {} })).toThrow(/checkpointIntervalSeconds/);
    expect(() => loadConfig({ flags: { dataDir: dirWith('{nope') }, env: {} })).toThrow(/not valid JSON/);
    expect(() => loadConfig({ flags: { dataDir: dirWith() }, env: { DATABASE_URL: 'mysql://x' } })).toThrow(/databaseUrl/);
  });
});
