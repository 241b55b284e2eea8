/**
 * A stand-in OpenID Connect issuer for tests: RS256, ES256 and EdDSA signing keys, their public
 * halves served as a JWKS (RFC 7517 §5) over HTTP on 127.0.0.1 (port 0), a jose-based `sign`
 * for well-formed tokens and `signCompact` for deliberately odd ones (arbitrary header and
 * claims text, any header `alg`, any signing algorithm). The JWKS endpoint counts its fetches
 * and can be switched to fail, so caching, rotation and outages can be tested.
 */
import { createHmac, KeyObject, constants, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { JWK, JWTPayload } from 'jose';

export const testIssuerAlgorithms = ['RS256', 'ES256', 'EdDSA'] as const;
export type TestIssuerAlgorithm = (typeof testIssuerAlgorithms)[number];

export interface TestKey {
  alg: TestIssuerAlgorithm;
  /** RFC 7638 thumbprint, as many issuers mint their key ids. */
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The JWKS member: public parameters plus kid, alg, use. */
  publicJwk: JWK;
}

export interface TestSignOptions {
  alg?: TestIssuerAlgorithm;
  /** A kid to put in the header instead of the key's own; `null` leaves kid out. */
  kid?: string | null;
  /** Sign with this key (e.g. a rotated one) instead of the current key for `alg`. */
  key?: TestKey;
  /** Extra or replacement protected header parameters (`typ`, ...). */
  header?: Record<string, unknown>;
}

/** What the JWKS endpoint answers: the key set, or one of the ways a key set can be unavailable. */
export type JwksMode = 'ok' | 'server-error' | 'not-json' | 'not-a-key-set' | 'hang';

export interface TestIssuer {
  /** `iss` value: `http://127.0.0.1:<port>/idp` (http is allowed on loopback only). */
  readonly issuer: string;
  readonly jwksUri: string;
  /** The current signing key per algorithm. */
  readonly keys: Readonly<Record<TestIssuerAlgorithm, TestKey>>;
  /** A well-formed JWT signed with jose (`SignJWT`); claims are used as given. */
  sign(claims: JWTPayload, options?: TestSignOptions): Promise<string>;
  /** Key rotation: a fresh key for `alg`, published beside the old ones and used by `sign` from now on. */
  rotate(alg: TestIssuerAlgorithm): Promise<TestKey>;
  /** Stop publishing a key (a retired kid). */
  unpublish(kid: string): void;
  jwksMode(mode: JwksMode): void;
  /** How many times the JWKS has been requested. */
  jwksFetches(): number;
  close(): Promise<void>;
}

export async function newTestKey(alg: TestIssuerAlgorithm): Promise<TestKey> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    alg,
    kid,
    privateKey: KeyObject.from(pair.privateKey),
    publicKey: KeyObject.from(pair.publicKey),
    publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
  };
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const current: Record<TestIssuerAlgorithm, TestKey> = {
    RS256: await newTestKey('RS256'),
    ES256: await newTestKey('ES256'),
    EdDSA: await newTestKey('EdDSA'),
  };
  const published: TestKey[] = Object.values(current);
  let mode: JwksMode = 'ok';
  let fetches = 0;

  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/idp/jwks') {
      res.writeHead(404).end();
      return;
    }
    fetches++;
    switch (mode) {
      case 'ok':
        res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: published.map((k) => k.publicJwk) }));
        return;
      case 'server-error':
        res.writeHead(500).end();
        return;
      case 'not-json':
        res.writeHead(200, { 'content-type': 'application/json' }).end('<html>maintenance</html>');
        return;
      case 'not-a-key-set':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: 'none' }));
        return;
      case 'hang':
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}/idp`;

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    keys: current,
    async sign(claims, options = {}) {
      const key = options.key ?? current[options.alg ?? 'RS256'];
      const kid = options.kid === undefined ? key.kid : options.kid;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, ...(kid === null ? {} : { kid }), ...options.header })
        .sign(key.privateKey);
    },
    async rotate(alg) {
      const key = await newTestKey(alg);
      current[alg] = key;
      published.push(key);
      return key;
    },
    unpublish(kid) {
      const i = published.findIndex((k) => k.kid === kid);
      if (i >= 0) published.splice(i, 1);
    },
    jwksMode(next) {
      mode = next;
    },
    jwksFetches: () => fetches,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A signing key for `signCompact`: an asymmetric private key, or the bytes of an HMAC secret. */
export interface CompactSigner {
  alg: string;
  key: KeyObject | Uint8Array;
}

/** RFC 7515 §3.1 compact serialization with exactly the given header and claims text. */
export function signCompact(header: string | object, payload: string | object, signer: CompactSigner | null): string {
  const encode = (part: string | object) => Buffer.from(typeof part === 'string' ? part : JSON.stringify(part), 'utf8').toString('base64url');
  const signingInput = `${encode(header)}.${encode(payload)}`;
  const signature = signer === null ? Buffer.alloc(0) : signatureOf(signingInput, signer);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Raw signature bytes as RFC 7518 §3 defines them (ECDSA as r || s, §3.4). */
export function signatureOf(signingInput: string | Uint8Array, { alg, key }: CompactSigner): Buffer {
  const data = typeof signingInput === 'string' ? Buffer.from(signingInput, 'ascii') : signingInput;
  const bits = /(\d{3})$/.exec(alg)?.[1] ?? '256';
  const hash = `sha${bits}`;
  if (key instanceof Uint8Array) {
    if (!alg.startsWith('HS')) throw new TypeError('asymmetric algorithms need a private key');
    return createHmac(hash, key).update(data).digest();
  }
  if (alg.startsWith('RS')) return cryptoSign(hash, data, key);
  if (alg.startsWith('PS')) return cryptoSign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(bits) / 8 });
  if (alg.startsWith('ES')) return cryptoSign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
  if (alg === 'EdDSA' || alg === 'Ed25519') return cryptoSign(null, data, key);
  throw new TypeError('unsupported signing algorithm');
}

/** An ephemeral key pair an attacker could hold, of the same type as `alg` needs. */
export function attackerKeyPair(alg: string): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg.startsWith('RS') || alg.startsWith('PS')) return generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (alg === 'ES384') return generateKeyPairSync('ec', { namedCurve: 'P-384' });
  if (alg === 'ES512') return generateKeyPairSync('ec', { namedCurve: 'P-521' });
  return generateKeyPairSync('ed25519');
}
