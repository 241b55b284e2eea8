/**
 * The behaviour every KeyProvider must show, as vitest tests: each provider's test file calls
 * `keyProviderConformance` with a way to make a fresh key store (a key file, an HSM token),
 * so the local key file and PKCS#11 are held to the same contract (see key-provider.ts).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyProvider } from './key-provider.js';

export interface KeyStoreFixture {
  /** A new provider instance on this store (another process would see the same). */
  open(): Promise<KeyProvider>;
  /** Delete the store. Providers opened from it are closed by the suite first. */
  dispose(): Promise<void>;
}

export interface KeyProviderSubject {
  /** The provider's `name`. */
  name: string;
  /** The versions of a fresh store (`[1]` after `ward init` for the key file, `[]` for a new token). */
  initialVersions: number[];
  /** The first byte of a wrapped key, naming the wrapping format. */
  formatByte: number;
  create(): Promise<KeyStoreFixture>;
}

const WRAPPED_BYTES = 61;

export function keyProviderConformance(subject: KeyProviderSubject): void {
  describe(`KeyProvider conformance: ${subject.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];

    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** A fresh store and a provider on it, closed and deleted after the test. */
    async function fresh(): Promise<{ store: KeyStoreFixture; provider: KeyProvider; open: () => Promise<KeyProvider> }> {
      const store = await subject.create();
      cleanups.push(() => store.dispose());
      const open = async (): Promise<KeyProvider> => {
        const p = await store.open();
        cleanups.push(() => p.close());
        return p;
      };
      return { store, provider: await open(), open };
    }

    async function withVersions(provider: KeyProvider, count: number): Promise<number[]> {
      while ((await provider.versions()).length < count) await provider.createVersion();
      return provider.versions();
    }

    it('names itself, and a fresh store holds its initial versions', async () => {
      const { provider } = await fresh();
      expect(provider.name).toBe(subject.name);
      expect(await provider.versions()).toEqual(subject.initialVersions);
    });

    it('unwraps what it wrapped; the wrapped form is 61 bytes, format byte first, without the key in it', async () => {
      const { provider } = await fresh();
      const [version] = await withVersions(provider, 1);
      const dataKey = randomBytes(32);
      const context = 'ward.dek.v1|patient:pt-1001|1';
      const wrapped = await provider.wrap(version!, dataKey, context);
      expect(wrapped.length).toBe(WRAPPED_BYTES);
      expect(wrapped[0]).toBe(subject.formatByte);
      expect(wrapped.includes(dataKey)).toBe(false);
      expect((await provider.unwrap(version!, wrapped, context)).equals(dataKey)).toBe(true);
      // Empty and non-ASCII contexts are bound as well.
      for (const other of ['', 'ward.dek.v1|patient:Zoë|1']) {
        expect((await provider.unwrap(version!, await provider.wrap(version!, dataKey, other), other)).equals(dataKey)).toBe(true);
      }
    });

    it('wrapping the same key twice gives different outputs (fresh nonce)', async () => {
      const { provider } = await fresh();
      const [version] = await withVersions(provider, 1);
      const dataKey = randomBytes(32);
      const a = await provider.wrap(version!, dataKey, 'ctx');
      const b = await provider.wrap(version!, dataKey, 'ctx');
      expect(a.equals(b)).toBe(false);
      expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false);
      expect((await provider.unwrap(version!, a, 'ctx')).equals(dataKey)).toBe(true);
      expect((await provider.unwrap(version!, b, 'ctx')).equals(dataKey)).toBe(true);
    });

    it('a wrapped key unwraps only under the same version and context, and unedited', async () => {
      const { provider } = await fresh();
      const [v1, v2] = await withVersions(provider, 2);
      const context = 'ward.dek.v1|patient:pt-1001|1';
      const wrapped = await provider.wrap(v1!, randomBytes(32), context);
      const refused = async (version: number, bytes: Buffer, ctx: string): Promise<void> => {
        const error = await provider.unwrap(version, bytes, ctx).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toMatchObject({ code: 'keys.unwrap_failed' });
        // Contexts name patients: they stay out of messages that may reach a log.
        expect((error as Error).message).not.toContain('pt-1001');
      };
      await refused(v1!, wrapped, 'ward.dek.v1|patient:pt-1002|1');
      await refused(v1!, wrapped, `${context} `);
      await refused(v2!, wrapped, context);
      // Every single byte flipped: format byte, nonce, ciphertext, tag.
      for (let i = 0; i < wrapped.length; i++) {
        const edited = Buffer.from(wrapped);
        edited[i] = edited[i]! ^ 0x01;
        await refused(v1!, edited, context);
      }
      await refused(v1!, wrapped.subarray(0, wrapped.length - 1), context);
      await refused(v1!, wrapped.subarray(0, 13), context);
      await refused(v1!, Buffer.alloc(0), context);
      await refused(v1!, Buffer.concat([wrapped, Buffer.of(0)]), context);
      const otherFormat = Buffer.from(wrapped);
      otherFormat[0] = subject.formatByte === 0x01 ? 0x02 : 0x01;
      await refused(v1!, otherFormat, context);
      // The original still unwraps: refusals changed nothing.
      expect((await provider.unwrap(v1!, wrapped, context)).length).toBe(32);
    });

    it('an unknown version is keys.kek_missing, for wrap and unwrap', async () => {
      const { provider } = await fresh();
      const versions = await withVersions(provider, 1);
      const wrapped = await provider.wrap(versions[0]!, randomBytes(32), 'ctx');
      for (const version of [Math.max(...versions) + 1, 999, 0, -1, 1.5, Number.NaN]) {
        await expect(provider.wrap(version, randomBytes(32), 'ctx')).rejects.toMatchObject({ code: 'keys.kek_missing' });
        await expect(provider.unwrap(version, wrapped, 'ctx')).rejects.toMatchObject({ code: 'keys.kek_missing' });
      }
    });

    it('refuses data keys that are not exactly 32 bytes', async () => {
      const { provider } = await fresh();
      const [version] = await withVersions(provider, 1);
      for (const size of [0, 16, 31, 33, 64]) {
        await expect(provider.wrap(version!, randomBytes(size), 'ctx')).rejects.toMatchObject({ code: 'keys.invalid_data_key' });
      }
      const notABuffer = new Uint8Array(32) as unknown as Buffer;
      await expect(provider.wrap(version!, notABuffer, 'ctx')).rejects.toMatchObject({ code: 'keys.invalid_data_key' });
    });

    it('createVersion adds the next version; older versions still unwrap their data', async () => {
      const { provider } = await fresh();
      const before = await withVersions(provider, 1);
      const old = before[before.length - 1]!;
      const dataKey = randomBytes(32);
      const wrappedOld = await provider.wrap(old, dataKey, 'ctx');
      const created = await provider.createVersion();
      expect(created).toBe(old + 1);
      expect(await provider.versions()).toEqual([...before, created]);
      expect(await provider.createVersion()).toBe(old + 2);
      expect((await provider.unwrap(old, wrappedOld, 'ctx')).equals(dataKey)).toBe(true);
      // Rewrap (what `ward keys rotate` does): unwrap under the old version, wrap under the new.
      const rewrapped = await provider.wrap(created, await provider.unwrap(old, wrappedOld, 'ctx'), 'ctx');
      expect((await provider.unwrap(created, rewrapped, 'ctx')).equals(dataKey)).toBe(true);
      await expect(provider.unwrap(old, rewrapped, 'ctx')).rejects.toMatchObject({ code: 'keys.unwrap_failed' });
    });

    it('versions survive reopening, and a version made by another instance is usable at once', async () => {
      const { provider, open } = await fresh();
      const [v1] = await withVersions(provider, 1);
      const dataKey = randomBytes(32);
      const wrapped = await provider.wrap(v1!, dataKey, 'ctx');
      const v2 = await provider.createVersion();
      const wrapped2 = await provider.wrap(v2, dataKey, 'ctx');

      // A second instance while the first is open (a server, and `ward keys rotate`).
      const second = await open();
      expect(await second.versions()).toEqual(await provider.versions());
      expect((await second.unwrap(v1!, wrapped, 'ctx')).equals(dataKey)).toBe(true);
      const v3 = await second.createVersion();
      expect(v3).toBe(v2 + 1);
      const wrapped3 = await second.wrap(v3, dataKey, 'ctx');
      expect((await provider.unwrap(v3, wrapped3, 'ctx')).equals(dataKey)).toBe(true);
      expect(await provider.versions()).toContain(v3);

      // Closing one instance leaves the other working.
      await second.close();
      expect((await provider.unwrap(v2, wrapped2, 'ctx')).equals(dataKey)).toBe(true);
      await provider.close();

      const reopened = await open();
      expect(await reopened.versions()).toEqual([v1!, v2, v3]);
      expect((await reopened.unwrap(v1!, wrapped, 'ctx')).equals(dataKey)).toBe(true);
      expect((await reopened.unwrap(v2, wrapped2, 'ctx')).equals(dataKey)).toBe(true);
      expect((await reopened.unwrap(v3, wrapped3, 'ctx')).equals(dataKey)).toBe(true);
    });

    it('200 concurrent wraps, then 200 concurrent unwraps mixed with wraps, all succeed', async () => {
      const { provider } = await fresh();
      const [v1, v2] = await withVersions(provider, 2);
      const keys = Array.from({ length: 200 }, (_, i) => ({ key: randomBytes(32), context: `ward.dek.v1|patient:pt-${i}|1`, version: i % 2 === 0 ? v1! : v2! }));
      const wrapped = await Promise.all(keys.map((k) => provider.wrap(k.version, k.key, k.context)));
      expect(new Set(wrapped.map((w) => w.toString('hex'))).size).toBe(200);
      const results = await Promise.all([
        ...keys.map(async (k, i) => (await provider.unwrap(k.version, wrapped[i]!, k.context)).equals(k.key)),
        ...keys.map(async (k) => (await provider.unwrap(k.version, await provider.wrap(k.version, k.key, k.context), k.context)).equals(k.key)),
      ]);
      expect(results.every(Boolean)).toBe(true);
    });

    it('after close, calls are refused; close is idempotent', async () => {
      const { provider } = await fresh();
      const [version] = await withVersions(provider, 1);
      const inFlight = provider.wrap(version!, randomBytes(32), 'ctx');
      await provider.close();
      // A call made before close still completes.
      expect((await inFlight).length).toBe(WRAPPED_BYTES);
      await provider.close();
      await expect(provider.wrap(version!, randomBytes(32), 'ctx')).rejects.toMatchObject({ code: 'keys.provider_closed' });
      await expect(provider.versions()).rejects.toMatchObject({ code: 'keys.provider_closed' });
    });
  });
}
