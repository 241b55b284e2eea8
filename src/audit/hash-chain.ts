import { hash } from 'node:crypto';

/** The chain link: SHA-256(previous chain hash || this entry's leaf hash). The first entry chains from 32 zero bytes. */
export const GENESIS_CHAIN = Buffer.alloc(32);

export function chainHash(previous: Buffer, leaf: Buffer): Buffer {
  return hash('sha256', Buffer.concat([previous, leaf], 64), 'buffer');
}

const linkScratch = Buffer.alloc(64);

/** The same link over hex strings, returning hex: no Buffer allocation per entry (verify's hot path). */
export function chainHashHex(previousHex: string, leafHex: string): string {
  linkScratch.write(previousHex, 0, 32, 'hex');
  linkScratch.write(leafHex, 32, 32, 'hex');
  return hash('sha256', linkScratch, 'hex');
}
