// sdjwt_check.mjs: the independent SD-JWT implementation in the tests (OpenWallet Foundation's
// sd-jwt-js, @sd-jwt/sd-jwt-vc, pinned in package.json). Two commands, JSON on stdin and stdout:
//   verify  {"sdjwt", "jwks", "nonce"?, "aud"?}  -> {"ok": true, "claims": {...}, "kb": bool} or {"ok": false, "error"}
//   issue   {}  -> an SD-JWT VC the library issued (nested and array disclosures, decoys, cnf) and a
//                  presentation of it with a key-binding JWT: {"jwks", "credential", "presentation", "nonce", "aud"}
// Used only by tests/integration/test_credential.py; never by the service.
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { webcrypto as crypto } from 'node:crypto';

const subtle = crypto.subtle;
const b64u = (buf) => Buffer.from(buf).toString('base64url');
const hasher = async (data, alg) => {
  if (alg !== 'sha-256') throw new Error('unsupported hash ' + alg);
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data);
  return new Uint8Array(await subtle.digest('SHA-256', bytes));
};
const saltGenerator = (n) => b64u(crypto.getRandomValues(new Uint8Array(n)));
const es256 = { name: 'ECDSA', namedCurve: 'P-256' };
const sha = { name: 'ECDSA', hash: 'SHA-256' };
const verifierFor = (key) => async (data, sig) =>
  subtle.verify(sha, key, Buffer.from(sig, 'base64url'), new TextEncoder().encode(data));
const signerFor = (key) => async (data) =>
  b64u(await subtle.sign(sha, key, new TextEncoder().encode(data)));
const kbVerifier = async (data, sig, payload) => {
  const jwk = payload?.cnf?.jwk;
  if (!jwk) throw new Error('no cnf.jwk');
  const k = await subtle.importKey('jwk', jwk, es256, false, ['verify']);
  return verifierFor(k)(data, sig);
};

async function readStdin() {
  let s = '';
  for await (const c of process.stdin) s += c;
  return JSON.parse(s || '{}');
}

async function verify(inp) {
  const [jwt] = inp.sdjwt.split('~');
  const header = JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url'));
  const jwk = inp.jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error('no issuer key with kid ' + header.kid);
  const { kid, use, alg, ...pub } = jwk;
  const key = await subtle.importKey('jwk', pub, es256, false, ['verify']);
  const sdjwt = new SDJwtVcInstance({ hasher, verifier: verifierFor(key), kbVerifier });
  const opts = {};
  if (inp.nonce) opts.keyBindingNonce = inp.nonce;
  if (inp.aud) opts.expectedKeyBindingAudience = inp.aud;
  const r = await sdjwt.verify(inp.sdjwt, opts);
  return { ok: true, claims: r.payload, header: r.header, kb: !!r.kb };
}

async function issue() {
  const issuer = await subtle.generateKey(es256, true, ['sign', 'verify']);
  const holder = await subtle.generateKey(es256, true, ['sign', 'verify']);
  const ijwk = await subtle.exportKey('jwk', issuer.publicKey);
  const hjwk = await subtle.exportKey('jwk', holder.publicKey);
  const pubI = { kty: ijwk.kty, crv: ijwk.crv, x: ijwk.x, y: ijwk.y, kid: 'library-issuer' };
  const sdjwt = new SDJwtVcInstance({
    hasher, saltGenerator, hashAlg: 'sha-256', signer: signerFor(issuer.privateKey), signAlg: 'ES256',
    verifier: verifierFor(issuer.publicKey), kbSigner: signerFor(holder.privateKey), kbSignAlg: 'ES256', kbVerifier,
  });
  const claims = {
    iss: 'https://issuer.example', iat: Math.floor(Date.now() / 1000), vct: 'https://credentials.example/identity',
    cnf: { jwk: { kty: hjwk.kty, crv: hjwk.crv, x: hjwk.x, y: hjwk.y } },
    given_name: 'Erika', family_name: 'Mustermann', email: 'erika@example.com',
    address: { street_address: 'Heidestrasse 17', locality: 'Köln', country: 'DE' },
    nationalities: ['DE', 'AT'],
  };
  const frame = {
    _sd: ['given_name', 'family_name', 'email', 'address', 'nationalities'],
    address: { _sd: ['street_address', 'locality'] },
    nationalities: { _sd: [0, 1] },
    _sd_decoy: 3,
  };
  const credential = await sdjwt.issue(claims, frame, { header: { typ: 'dc+sd-jwt', kid: 'library-issuer' } });
  const nonce = b64u(crypto.getRandomValues(new Uint8Array(16)));
  const aud = 'https://verifier.example';
  const presentation = await sdjwt.present(
    credential, { given_name: true, address: { locality: true }, nationalities: { 1: true } },
    { kb: { payload: { iat: Math.floor(Date.now() / 1000), aud, nonce } } });
  return { jwks: { keys: [pubI] }, credential, presentation, nonce, aud };
}

const cmd = process.argv[2];
const inp = await readStdin();
try {
  const out = cmd === 'verify' ? await verify(inp) : cmd === 'issue' ? await issue() : null;
  if (!out) throw new Error('usage: sdjwt_check.mjs verify|issue < input.json');
  process.stdout.write(JSON.stringify(out) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.message || e) }) + '\n');
  process.exit(1);
}
