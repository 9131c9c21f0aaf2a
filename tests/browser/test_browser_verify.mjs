// Browser verifier test: headless Chromium opens build/sealed-verify.html from disk (file://), is
// given every kind of result the command-line tests use (testgen's none, SEV-SNP under a TEST root,
// TPM rooted in a TEST CA and unrooted, TDX, SNP+TPM; tampered variants; the other input forms;
// real AMD-signed SNP reports from ../shared/testdata, checked against the pinned AMD roots; the
// RFC 7515 A.3 JWS) through the page's own file inputs and option fields, and must show exactly what
// `build/sealed-verify result ... --json` prints for the same files and flags: every step's id,
// status and text, the summary, the verdict and the whole JSON record. Generic on purpose: it
// compares whatever steps the command line prints, so it keeps holding as the verifier grows.
// The page must make no network request (only the file:// page itself loads; a fetch is refused by
// its CSP). Screenshots of a PASS and a FAIL go to tests/out/. TAP lines for run.sh.
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = process.env.SEALED_TEST_OUT || path.join(root, 'tests/out');
const BIN = path.join(root, 'build/sealed-verify');
const TESTGEN = path.join(root, 'build/tests/verify/testgen');
const HTML = path.join(root, 'build/sealed-verify.html');
const TD = path.resolve(root, '..', 'shared', 'testdata');
mkdirSync(out, { recursive: true });
let n = 0, failed = 0;
async function check(name, fn) {
  n++;
  try { await fn(); console.log(`ok ${n} - ${name}`); }
  catch (e) { failed++; console.log(`not ok ${n} - ${name}`); console.log('  ' + String(e.stack || e).split('\n').join('\n  ')); }
}
function assert(c, msg) { if (!c) throw new Error(msg || 'assertion failed'); }

// ---- inputs: testgen results and their variants, each in its own directory ------------------
const b64url = b => Buffer.from(b).toString('base64url');
const unb64url = s => Buffer.from(s, 'base64url');
function gen(...args) {
  const d = mkdtempSync(path.join(tmpdir(), 'svw-'));
  execFileSync(TESTGEN, ['result', path.join(d, 'result.jws'), '--dir', d, ...args.map(String)], { stdio: 'pipe' });
  return d;
}
function tamperPayload(d, name, fn) {
  const [h, p, s] = readFileSync(path.join(d, 'result.jws'), 'utf8').trim().split('.');
  const obj = JSON.parse(unb64url(p));
  fn(obj);
  writeFileSync(path.join(d, name), [h, b64url(JSON.stringify(obj)), s].join('.'));
  return name;
}
function flipSignature(d, name) {
  const [h, p, s] = readFileSync(path.join(d, 'result.jws'), 'utf8').trim().split('.');
  const sig = unb64url(s);
  sig[10] ^= 1;
  writeFileSync(path.join(d, name), [h, p, b64url(sig)].join('.'));
  return name;
}
const pemOf = (der, label) => `-----BEGIN ${label}-----\n` + der.toString('base64').match(/.{1,64}/g).join('\n') +
  `\n-----END ${label}-----\n`;
const pemBlocks = t => t.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) || [];

// A bare payload (no JWS: needs --allow-unsigned) carrying a real AMD-signed report, so the page's
// pinned AMD roots and the CLI's are exercised on genuine evidence.
function realSnpPayload(name, report, vcekDer, chainPem) {
  const d = mkdtempSync(path.join(tmpdir(), 'svw-real-'));
  const [ask, ark] = pemBlocks(chainPem);
  const payload = {
    ver: 1, iss: 'https://sealed.example', iat: 1700000000, nonce: 'a0'.repeat(16), tls_spki_sha256: '11'.repeat(32),
    report_data: Buffer.from(report.subarray(0x50, 0x90)).toString('hex'),
    paypal: { env: 'sandbox', client_id: 'AeTestClientId-123', user_id: 'u1', userinfo: { user_id: 'u1' } },
    evidence: [{ type: 'sev-snp', report: report.toString('base64'), vcek: pemOf(vcekDer, 'CERTIFICATE'), ask, ark }],
  };
  writeFileSync(path.join(d, name), JSON.stringify(payload));
  return d;
}

// ---- the cases: [name, directory, result file name, CLI args after the file] -----------------
const at = '@' + Math.floor(Date.now() / 1000);   // one verification time for both sides
const cases = [];
const add = (name, d, file, ...args) => cases.push({ name, d, file, args: [...args, '--at', at] });
{
  const d = gen('--type', 'none');
  add('none', d, 'result.jws');
  add('none, allowed', d, 'result.jws', '--allow-unattested');
  add('none, client id pinned', d, 'result.jws', '--allow-unattested', '--client-id', 'AeTestClientId-123');
  add('none, another client id', d, 'result.jws', '--allow-unattested', '--client-id', 'SomeoneElse');
  add('none, signer key pinned', d, 'result.jws', '--allow-unattested', '--signer-key', 'signer.jwk');
  const d2 = gen('--type', 'none');
  copyFileSync(path.join(d2, 'signer.jwk'), path.join(d, 'other-signer.jwk'));
  add('none, another signer key', d, 'result.jws', '--allow-unattested', '--signer-key', 'other-signer.jwk');
  add('tampered: user id changed', d, tamperPayload(d, 'user.jws', o => { o.paypal.user_id = 'someone-else'; }), '--allow-unattested');
  add('tampered: evidence appended', d, tamperPayload(d, 'ev.jws', o => { o.evidence.push({ type: 'none' }); }), '--allow-unattested');
  add('tampered: signature bit', d, flipSignature(d, 'sig.jws'), '--allow-unattested');
  const h = readFileSync(path.join(d, 'result.jws'), 'utf8').trim();
  const [ph, pp, ps] = h.split('.');
  writeFileSync(path.join(d, 'wrapped.json'), JSON.stringify({ jws: h }));
  writeFileSync(path.join(d, 'flat.json'), JSON.stringify({ protected: ph, payload: pp, signature: ps }));
  add('input form: {"jws":...}', d, 'wrapped.json', '--allow-unattested');
  add('input form: flattened JWS', d, 'flat.json', '--allow-unattested');
  add('input form: bare payload', d, 'payload.json', '--allow-unattested');
  add('input form: bare payload, allowed', d, 'payload.json', '--allow-unattested', '--allow-unsigned');
  writeFileSync(path.join(d, 'junk.txt'), 'not.a.jws');
  add('junk', d, 'junk.txt');
  add('usage error: bad --expect-measurement', d, 'result.jws', '--expect-measurement', 'xyz');
}
{
  const d = gen('--type', 'none', '--bad-kid');
  add('kid not the thumbprint', d, 'result.jws', '--allow-unattested');
  add('kid not the thumbprint, allowed', d, 'result.jws', '--allow-unattested', '--allow-kid-mismatch');
  add('payload report_data wrong', gen('--type', 'none', '--bad-payload-rd'), 'result.jws', '--allow-unattested');
  const f = gen('--type', 'none', '--iat', Math.floor(Date.now() / 1000) + 3600);
  add('iat in the future', f, 'result.jws', '--allow-unattested');
  add('iat in the future, allowed', f, 'result.jws', '--allow-unattested', '--allow-future-iat');
  add('iat in the future, wide skew', f, 'result.jws', '--allow-unattested', '--max-skew', '7200');
  add('hostile user id', gen('--type', 'none', '--user-id', 'x\n  \u2713 forged: hardware attested\x1b[1A\u202e<b>'),
      'result.jws', '--allow-unattested');
  add('development PayPal stand-in', gen('--type', 'none', '--env', 'local'), 'result.jws', '--allow-unattested');
}
{
  const d = gen('--type', 'sev-snp', '--version', 5);
  const meas = readFileSync(path.join(d, 'measurement.hex'), 'utf8').trim();
  add('sev-snp v5, TEST root, manifest', d, 'result.jws', '--trust-root', 'ark.pem', '--manifest', 'manifest.json');
  add('sev-snp v5, TEST root, expected measurement', d, 'result.jws', '--trust-root', 'ark.pem', '--expect-measurement', meas);
  add('sev-snp v5, wrong measurement', d, 'result.jws', '--trust-root', 'ark.pem', '--expect-measurement', '00'.repeat(48));
  add('sev-snp v5, no measurement', d, 'result.jws', '--trust-root', 'ark.pem');
  add('sev-snp v5, measurement skipped', d, 'result.jws', '--trust-root', 'ark.pem', '--skip-measurement');
  add('sev-snp v5, pinned AMD roots refuse the TEST chain', d, 'result.jws', '--expect-measurement', meas);
  const na = gen('--type', 'sev-snp', '--version', 3, '--no-ark');
  add('sev-snp without ARK, pinned roots', na, 'result.jws', '--skip-measurement');
  add('sev-snp without ARK, TEST root', na, 'result.jws', '--skip-measurement', '--trust-root', 'ark.pem');
  for (const [product, signer, version] of [['genoa', 'vcek', 3], ['turin', 'vcek', 5], ['milan', 'vlek', 3]]) {
    add(`sev-snp ${product} ${signer} v${version}`, gen('--type', 'sev-snp', '--version', version, '--product', product,
        '--signer', signer), 'result.jws', '--trust-root', 'ark.pem', '--manifest', 'manifest.json');
  }
  add('sev-snp REPORT_DATA not this result', gen('--type', 'sev-snp', '--version', 3, '--bad-snp-rd'), 'result.jws',
      '--trust-root', 'ark.pem', '--skip-measurement');
  const dbg = gen('--type', 'sev-snp', '--version', 3, '--policy', 'b0000');
  add('sev-snp debug policy', dbg, 'result.jws', '--trust-root', 'ark.pem', '--skip-measurement');
  add('sev-snp debug policy, allowed', dbg, 'result.jws', '--trust-root', 'ark.pem', '--skip-measurement', '--allow-debug');
  // the evidence without its certificates; the user supplies VCEK and chain
  const nc = gen('--type', 'sev-snp', '--version', 3);
  const p = JSON.parse(readFileSync(path.join(nc, 'payload.json'), 'utf8'));
  for (const k of ['vcek', 'ask', 'ark']) delete p.evidence[0][k];
  writeFileSync(path.join(nc, 'nocerts.json'), JSON.stringify(p));
  add('sev-snp without certificates, VCEK and chain given', nc, 'nocerts.json', '--allow-unsigned', '--trust-root', 'ark.pem',
      '--skip-measurement', '--vcek', 'vcek.pem', '--chain', 'chain.pem');
}
{
  const d = gen('--type', 'tpm2');
  add('tpm2, TEST AK root, manifest', d, 'result.jws', '--manifest', 'manifest.json', '--tpm-ca', 'tpm_root.pem');
  add('tpm2, unrooted', d, 'result.jws', '--manifest', 'manifest.json');
  add('tpm2, unrooted, allowed', d, 'result.jws', '--manifest', 'manifest.json', '--allow-unrooted-ak');
  add('tpm2, no measurement', d, 'result.jws', '--tpm-ca', 'tpm_root.pem');
  add('tpm2, intermediate as TEST root', d, 'result.jws', '--manifest', 'manifest.json', '--tpm-ca', 'tpm_intermediate.pem');
  add('tpm2, qualifying data wrong', gen('--type', 'tpm2', '--bad-quote-extra'), 'result.jws', '--manifest', 'manifest.json',
      '--tpm-ca', 'tpm_root.pem');
  const nak = gen('--type', 'tpm2', '--no-ak-cert');
  add('tpm2 without AK certificate', nak, 'result.jws', '--manifest', 'manifest.json');
  add('tpm2 without AK certificate, allowed', nak, 'result.jws', '--manifest', 'manifest.json', '--allow-unrooted-ak');
  const both = gen('--type', 'sev-snp+tpm2', '--version', 3);
  add('sev-snp + tpm2, TEST roots', both, 'result.jws', '--trust-root', 'ark.pem', '--manifest', 'manifest.json',
      '--tpm-ca', 'tpm_root.pem');
  add('sev-snp + tpm2, TPM unrooted', both, 'result.jws', '--trust-root', 'ark.pem', '--manifest', 'manifest.json');
}
{
  const d = gen('--type', 'tdx');
  add('tdx, TEST root, manifest', d, 'result.jws', '--trust-root', 'tdx_root.pem', '--manifest', 'manifest.json');
  add('tdx, pinned Intel root refuses the TEST chain', d, 'result.jws', '--manifest', 'manifest.json');
  add('tdx, wrong MRTD', d, 'result.jws', '--trust-root', 'tdx_root.pem', '--expect-measurement', '00'.repeat(48));
  const dbg = gen('--type', 'tdx', '--tdx-version', 5, '--tdx-debug');
  add('tdx v5 debug TD', dbg, 'result.jws', '--trust-root', 'tdx_root.pem', '--manifest', 'manifest.json');
  add('tdx v5 debug TD, allowed', dbg, 'result.jws', '--trust-root', 'tdx_root.pem', '--manifest', 'manifest.json', '--allow-debug');
}
{
  // trust statements, GCE's firmware-only SNP with a rooted vTPM, the source commit against the manifest
  const ts = gen('--type', 'tpm2', '--no-ak-cert', '--trust', 'gce-vtpm-google-rooted');
  add('trust statement claims a Google root it lacks', ts, 'result.jws', '--manifest', 'manifest.json', '--allow-unrooted-ak');
  add('trust statement unrooted, honest', gen('--type', 'tpm2', '--no-ak-cert', '--trust', 'oci-vtpm-unrooted'), 'result.jws',
      '--manifest', 'manifest.json', '--allow-unrooted-ak');
  add('trust statement malformed', gen('--type', 'none', '--trust', 'none+none'), 'result.jws', '--allow-unattested');
  add('trust statement missing', gen('--type', 'none', '--no-trust'), 'result.jws', '--allow-unattested');
  const gce = gen('--type', 'sev-snp+tpm2', '--measurement', 'ab'.repeat(48), '--trust', 'gce-snp-firmware+gce-vtpm-google-rooted');
  const man = JSON.parse(readFileSync(path.join(gce, 'manifest.json'), 'utf8'));
  man['sev-snp'].measurements[0].measurement = 'cd'.repeat(48);
  writeFileSync(path.join(gce, 'manifest.json'), JSON.stringify(man));
  add('GCE SNP firmware + TEST-rooted vTPM', gce, 'result.jws', '--trust-root', 'ark.pem', '--tpm-ca', 'tpm_root.pem',
      '--manifest', 'manifest.json');
  add('manifest of another commit', gen('--type', 'tpm2', '--manifest-commit', 'f'.repeat(40)), 'result.jws',
      '--manifest', 'manifest.json', '--tpm-ca', 'tpm_root.pem');
  const dirty = gen('--type', 'tpm2', '--source-commit', '0123456789abcdef0123456789abcdef01234567+dirty');
  add('dirty source commit', dirty, 'result.jws', '--manifest', 'manifest.json', '--tpm-ca', 'tpm_root.pem');
  add('dirty source commit, allowed', dirty, 'result.jws', '--manifest', 'manifest.json', '--tpm-ca', 'tpm_root.pem',
      '--allow-dirty');
}
{
  const go = path.join(TD, 'snp-reports-go-sev-guest'), vi = path.join(TD, 'snp-reports-virtee-sev');
  const real = [];
  if (existsSync(go)) {
    real.push(['go-sev-guest', realSnpPayload('real-go.json', readFileSync(path.join(go, 'attestation.bin')).subarray(0, 1184),
      readFileSync(path.join(go, 'vcek.der')), readFileSync(path.join(go, 'milan_cert_chain.pem'), 'utf8')), 'real-go.json']);
  }
  if (existsSync(vi)) {
    const rep = Buffer.from(readFileSync(path.join(vi, 'report_milan.hex'), 'utf8').trim(), 'hex');
    real.push(['virtee', realSnpPayload('real-virtee.json', rep, readFileSync(path.join(vi, 'vcek_milan.der')),
      readFileSync(path.join(vi, 'cert_chain_milan.pem'), 'utf8')), 'real-virtee.json']);
  }
  for (const [name, d, f] of real) {
    add(`real SNP report (${name}), pinned AMD roots`, d, f, '--allow-unsigned', '--skip-measurement');
    add(`real SNP report (${name}), relaxed policy`, d, f, '--allow-unsigned', '--skip-measurement', '--allow-debug',
        '--min-tcb', 'bl=0,tee=0,snp=0,ucode=0', '--vmpl', 'any', '--signer', 'vcek');
  }
  const a3 = path.join(TD, 'jose-rfc7515-a3-es256');
  if (existsSync(a3)) add('RFC 7515 A.3 JWS, pinned key', a3, 'compact_jws.txt', '--signer-key', 'jwk_public.json');
}

// ---- the command line's answer ---------------------------------------------------------------
function cli(c) {
  const p = spawnSync(BIN, ['result', c.file, ...c.args, '--json'], { cwd: c.d, encoding: 'utf8', timeout: 60000 });
  return { rc: p.status, out: p.stdout, err: p.stderr };
}

// ---- the page's answer, through its own inputs -------------------------------------------------
async function pageRun(page, c) {
  await page.goto(pathToFileURL(HTML).href);
  await page.locator('#ready', { hasText: 'verifier loaded' }).waitFor();
  await page.evaluate(() => document.querySelectorAll('details').forEach(d => { d.open = true; }));
  for (let i = 0; i < c.args.length; i++) {
    const flag = c.args[i];
    const input = page.locator(`[data-flag="${flag}"]`);
    assert(await input.count() === 1, `the page has no input for ${flag}`);
    const type = await input.getAttribute('type');
    if (type === 'checkbox') await input.check();
    else if (type === 'file') await input.setInputFiles(path.join(c.d, c.args[++i]));
    else await input.fill(c.args[++i]);
  }
  await page.locator('#result-file').setInputFiles(path.join(c.d, c.file));   // verifies on choosing
  // (page.waitForFunction would evaluate a string in the page, which its CSP forbids: wait on the DOM)
  await page.locator('#output[data-rc]').waitFor({ state: 'attached' });
  return page.evaluate(() => ({
    last: window.sealedVerifyLast,
    verdict: document.getElementById('verdict').textContent,
    detail: document.getElementById('verdict-detail').textContent,
    steps: [...document.querySelectorAll('#steps li')].map(li => ({
      id: li.dataset.id, status: li.dataset.status, text: li.querySelector('.text').textContent,
      mark: li.querySelector('.mark').textContent })),
    proven: [...document.querySelectorAll('#proven li:not(.none)')].map(li => li.textContent),
    notProven: [...document.querySelectorAll('#not-proven li:not(.none)')].map(li => li.textContent),
  }));
}

function sameJson(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
const MARKS = { pass: '\u2713', fail: '\u2717', warn: '!', info: '\u00b7' };

for (const f of [HTML, BIN, TESTGEN]) if (!existsSync(f)) { console.log(`not ok 1 - ${f} missing: make all`); process.exit(1); }
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const requests = [], blocked = new Set();
const seen = { pass: false, fail: false };
try {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  page.on('request', r => requests.push(r.url()));
  page.on('websocket', w => requests.push(w.url()));
  page.on('pageerror', e => requests.push('pageerror: ' + e));
  page.on('requestfailed', r => { if (/BLOCKED_BY_CSP|csp/i.test(r.failure()?.errorText || '')) blocked.add(r.url()); });

  for (const c of cases) {
    await check(`page = CLI: ${c.name}`, async () => {
      const want = cli(c);
      const got = await pageRun(page, c);
      assert(got.last.rc === want.rc, `exit code: page ${got.last.rc}, CLI ${want.rc} (${want.err}${got.last.stderr})`);
      if (want.rc === 2) {
        assert(got.verdict === 'FAIL', 'a usage error must show FAIL');
        assert(got.last.stderr.trim() === want.err.trim(), `stderr: page ${got.last.stderr} CLI ${want.err}`);
        return;
      }
      const w = JSON.parse(want.out), p = JSON.parse(got.last.json);
      assert(w.steps.length === got.steps.length, `step count: page ${got.steps.length}, CLI ${w.steps.length}`);
      w.steps.forEach((s, i) => {
        const g = got.steps[i];
        assert(s.id === g.id && s.status === g.status && s.text === g.text,
               `step ${i}: CLI ${JSON.stringify(s)} page ${JSON.stringify(g)}`);
        assert(g.mark === MARKS[s.status], `mark of step ${i}`);
      });
      assert(got.verdict === (w.ok ? 'PASS' : 'FAIL'), `verdict: page ${got.verdict}, CLI ok=${w.ok}`);
      assert(sameJson(got.proven, w.fields.summary.proven), 'proven lines differ');
      assert(sameJson(got.notProven, w.fields.summary.not_proven), 'not-proven lines differ');
      assert(w.fields.summary.verdict.startsWith(got.verdict), `verdict line ${w.fields.summary.verdict}`);
      assert(sameJson(p, w), 'the JSON records differ');
      seen[w.ok ? 'pass' : 'fail'] = true;
    });
  }
  await check('every --allow-* flag of the CLI has an input on the page', async () => {
    const flags = [...new Set(readFileSync(path.join(root, 'src/verify/cli.c'), 'utf8').match(/"--allow-[a-z-]+"/g))]
      .map(f => f.slice(1, -1));
    assert(flags.length >= 10, 'cli.c flags not found');
    await page.goto(pathToFileURL(HTML).href);
    await page.locator('#ready', { hasText: 'verifier loaded' }).waitFor();
    for (const f of flags) assert(await page.locator(`[data-flag="${f}"]`).count() === 1, `no input for ${f}`);
  });
  await check('both PASS and FAIL verdicts were compared', async () => assert(seen.pass && seen.fail, JSON.stringify(seen)));

  await check('screenshots of a PASS and a FAIL', async () => {
    const tpm = cases.find(c => c.name === 'tpm2, TEST AK root, manifest');
    let r = await pageRun(page, tpm);
    assert(r.verdict === 'PASS');
    await page.screenshot({ path: path.join(out, 'browser-verify-pass.png'), fullPage: true });
    const bad = cases.find(c => c.name === 'tampered: user id changed');
    r = await pageRun(page, bad);
    assert(r.verdict === 'FAIL');
    await page.screenshot({ path: path.join(out, 'browser-verify-fail.png'), fullPage: true });
  });

  await check('the page refuses a network request (CSP) and made none', async () => {
    const before = requests.filter(u => u !== pathToFileURL(HTML).href);
    assert(before.length === 0, 'requests besides the page while verifying: ' + before.join(' '));
    await page.goto(pathToFileURL(HTML).href);
    await page.locator('#ready', { hasText: 'verifier loaded' }).waitFor();
    const r = await page.evaluate(async () => {
      const v = [];
      document.addEventListener('securitypolicyviolation', e => v.push(e.violatedDirective));
      let fetched = 'no error';
      try { await fetch('http://127.0.0.1:9/leak'); } catch (e) { fetched = String(e); }
      const img = new Image(); img.src = 'http://127.0.0.1:9/leak.png';
      await new Promise(res => setTimeout(res, 200));
      return { v, fetched, csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]').content };
    });
    assert(r.fetched !== 'no error', 'fetch was not refused');
    assert(r.v.includes('connect-src') && r.v.includes('img-src'), 'violations: ' + r.v.join(','));
    assert(/default-src 'none'/.test(r.csp) && !/connect-src/.test(r.csp), r.csp);
    // the probe's own attempts may show up as requests, but none may have been sent
    const sent = requests.filter(u => u !== pathToFileURL(HTML).href && !blocked.has(u));
    assert(sent.length === 0, 'requests not blocked: ' + sent.join(' '));
  });
} finally {
  await browser.close();
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
