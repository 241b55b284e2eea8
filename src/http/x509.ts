/**
 * @peculiar/x509, loaded on first use and set up for Node (WebCrypto provider). Only
 * certificate generation needs it (`ward init --self-signed`, test PKIs); parsing and
 * fingerprints use `node:crypto`'s X509Certificate, so serving never loads it.
 *
 * The library resolves its algorithms through tsyringe, which needs the Reflect metadata
 * API: the `reflect-metadata` polyfill is imported first, here and only here.
 */
import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

let loaded: Promise<typeof X509> | undefined;

/** The @peculiar/x509 module, with WebCrypto from `node:crypto` as its provider. */
export function loadX509(): Promise<typeof X509> {
  loaded ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto);
    return x509;
  })();
  return loaded;
}
