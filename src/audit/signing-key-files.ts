/** The audit signing key pair (Ed25519): private key 0600 in the data directory, public key beside it for verifiers. */
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { readSecretFile, writeSecretFile } from '../storage/secret-file.js';
import { loadPrivateKey, loadPublicKey, keyIdOf } from './checkpoint.js';
import { WardError } from '../shared/ward-error.js';

export interface SigningKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function generateSigningKeyPair(): SigningKeyPair {
  return generateKeyPairSync('ed25519');
}

/** Private key 0600 (refused later if others can read it); public key 0644 for verifiers. */
export function writeSigningKeyFiles(privatePath: string, publicPath: string, pair: SigningKeyPair): { keyId: string } {
  writeSecretFile(privatePath, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(publicPath, pair.publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644, flag: 'wx' });
  return { keyId: keyIdOf(pair.publicKey) };
}

export function readSigningKey(privatePath: string): KeyObject {
  try {
    return loadPrivateKey(readSecretFile(privatePath).toString('utf8'));
  } catch (e) {
    if (e instanceof WardError) throw e;
    throw new WardError('audit.signing_key_invalid', `audit signing key ${privatePath} is not a valid Ed25519 key`);
  }
}

export function readVerifyKey(publicPath: string): KeyObject {
  try {
    const key = loadPublicKey(readFileSync(publicPath, 'utf8'));
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    return key;
  } catch {
    throw new WardError('audit.verify_key_invalid', `audit public key ${publicPath} is missing or not an Ed25519 key`);
  }
}
