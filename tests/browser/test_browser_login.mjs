// Browser test: headless Chromium clicks "Log in with PayPal", goes through the local stand-in
// PayPal, lands on the result page and checks what it shows; a second login with the same
// account gets the "already received" page. Every page the site serves (home, result, results
// list, already-used, errors, /status, privacy, terms) passes an axe-core audit with no violation
// and fits a 390-pixel-wide phone (audit.mjs); a hostile or right-to-left PayPal profile cannot
// reorder the page. Screenshots (desktop and phone) go to tests/out/. TAP lines for run.sh.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { auditPage, describeViolations, PHONE } from './audit.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = process.env.SEALED_TEST_OUT || path.join(root, 'tests/out');
mkdirSync(out, { recursive: true });
let n = 0, failed = 0;
async function check(name, fn) {
  n++;
  try { await fn(); console.log(`ok ${n} - ${name}`); }
  catch (e) {
    failed++; console.log(`not ok ${n} - ${name}`);
    if (globalThis.currentPage) {
      console.log('  at URL ' + globalThis.currentPage.url());
      await globalThis.currentPage.screenshot({ path: path.join(out, `browser-failure-${n}.png`) }).catch(() => {});
    } console.log('  ' + String(e.stack || e).split('\n').join('\n  ')); }
}
function assert(c, msg) { if (!c) throw new Error(msg || 'assertion failed'); }
const audits = [];
async function audited(page, name) {
  const a = await auditPage(page, name, out);
  audits.push({ name, ...a });
  assert(a.violations.length === 0, `axe: ${a.violations.length} violation(s) on ${name}:\n` + describeViolations(a.violations));
  assert(a.phoneWidth <= PHONE.width, `${name} is ${a.phoneWidth} px wide on a ${PHONE.width}-px phone`);
}
// Every page has one <main>, a language, a title, headings that never skip a level, and a footer
// linking the privacy policy and the user agreement (PayPal shows both before consent).
async function pageShape(page) {
  const s = await page.evaluate(() => ({
    main: document.querySelectorAll('main').length, lang: document.documentElement.lang, title: document.title,
    levels: [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1]),
    privacy: !!document.querySelector('footer a[href="/privacy"]'), terms: !!document.querySelector('footer a[href="/terms"]'),
  }));
  assert(s.main === 1 && s.lang === 'en' && s.title.length > 0, JSON.stringify(s));
  assert(s.levels[0] === 1 && s.levels.every((l, i) => i === 0 || l <= s.levels[i - 1] + 1), 'heading order ' + s.levels);
  assert(s.privacy && s.terms, 'footer lacks the privacy policy or user agreement link');
}

async function freePort() {
  const s = createServer(); s.listen(0, '127.0.0.1'); await once(s, 'listening');
  const p = s.address().port; s.close(); return p;
}
// Waits for a line on a child's stdout without ever closing the pipe (a closed pipe would kill
// the child at its next write).
function firstLine(proc, want) {
  return new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout.on('data', d => { buf += d; if (buf.includes(want)) resolve(buf); });
    proc.on('exit', code => reject(new Error(`process exited (${code}) before: ${want}`)));
  });
}

const port = await freePort(), fakePort = await freePort();
const clientId = 'browser-test-client', secret = 'browser-test-secret-' + process.pid;
// One more stand-in user: a right-to-left name with bidi overrides and control characters, the
// kind of profile that could reorder a page that does not isolate it.
const usersFile = path.join(out, 'browser-users.json');
writeFileSync(usersFile, JSON.stringify([{ key: 'rtl', name: '\u202eexe.gnp \u05e9\u05dc\u05d5\u05dd',
  given_name: '\u0634\u0631\u064a\u0641 \u2067', family_name: '\u0627\u0644\u0639\u0631\u0628\u064a)\u202b',
  email: '\u202etest@example.com', verified_account: true,
  address: { street_address: '\u0634\u0627\u0631\u0639 \u0627\u0644\u0646\u064a\u0644 12\u202e',
    locality: '\u0627\u0644\u0642\u0627\u0647\u0631\u0629', region: 'x\u0007\u0085y', postal_code: '11511', country: 'EG' } }]));
const fake = spawn('python3', [path.join(root, 'tests/fakes/fake_paypal.py'), '--port', String(fakePort),
  '--client-id', clientId, '--redirect-uri', `https://localhost:${port}/callback`, '--users', usersFile],
  { env: { ...process.env, FAKE_PAYPAL_CLIENT_SECRET: secret }, stdio: ['ignore', 'pipe', 'inherit'] });
await firstLine(fake, 'listening');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PAYPAL_') && !k.startsWith('SEALED_')));
const svc = spawn(path.join(root, 'build/sealed-login'), [], {
  env: { ...env, PAYPAL_ENV: 'local', PAYPAL_CLIENT_ID: clientId, PAYPAL_SECRET: secret,
    PAYPAL_AUTHORIZE_URL: `http://localhost:${fakePort}/signin/authorize`, PAYPAL_API_BASE: `http://127.0.0.1:${fakePort}`,
    SEALED_HTTPS_PORT: String(port), SEALED_LISTEN: '127.0.0.1', SEALED_DOMAIN: `localhost:${port}`,
    SEALED_IDSET_CAPACITY: '1000',
    PAYPAL_SCOPE: 'openid profile email address https://uri.paypal.com/services/paypalattributes' }, stdio: ['ignore', 'pipe', 'ignore'] });
await firstLine(svc, 'serving');

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true });
  const page = await ctx.newPage();
  globalThis.currentPage = page;
  await check('home page shows the PayPal button and the development banner', async () => {
    await page.goto(`https://localhost:${port}/`);
    const btn = page.locator('#paypal-login');
    assert(await btn.textContent() === 'Log in with PayPal');
    const bg = await btn.evaluate(e => getComputedStyle(e).backgroundColor);
    assert(bg === 'rgb(0, 112, 186)', 'button is not PayPal blue #0070BA: ' + bg);
    assert((await page.locator('#dev-banner').textContent()).includes('development mode: not PayPal'));
    assert((await page.locator('#measurement').textContent()).includes('unmeasured'));
    await page.screenshot({ path: path.join(out, 'browser-home.png'), fullPage: true });
  });
  await check('home page: landmarks, headings, footer links; axe finds nothing; fits a phone', async () => {
    await audited(page, 'home');
    await pageShape(page);
  });
  await check('clicking through the stand-in PayPal lands on the result page', async () => {
    await page.click('#paypal-login');
    await page.waitForSelector('#fake-login');
    assert(page.url().startsWith(`http://localhost:${fakePort}/signin/authorize`), page.url());
    await page.check('input[value="mallory"]');
    await page.click('#fake-login');
    await page.waitForSelector('#result-ok', { timeout: 15000 });
    assert(page.url().startsWith(`https://localhost:${port}/callback`), page.url());
    const table = await page.locator('#userinfo').textContent();
    assert(table.includes('<script>alert(1)</script>'), 'hostile name not shown as text');
    assert(await page.evaluate(() => window.__xss === undefined && document.querySelectorAll('#userinfo script').length === 0));
    const jws = await page.locator('#jws').inputValue();
    assert(jws.split('.').length === 3, 'no compact JWS');
    assert((await page.locator('#verify-command').textContent()).startsWith('sealed-verify result sealed-login-result.jws'));
    await page.screenshot({ path: path.join(out, 'browser-result.png'), fullPage: true });
  });
  await check('result page: the JWS box has a name; axe finds nothing; fits a phone', async () => {
    await audited(page, 'result');
    await pageShape(page);
    const label = await page.evaluate(() => document.querySelector('#jws').labels[0]?.textContent || '');
    assert(label.length > 0, 'the JWS textarea has no label');
  });
  await check('result page: every PayPal value is isolated with <bdi>, e-mail and address as text', async () => {
    const loose = await page.evaluate(() => {
      const bad = [];
      const w = document.createTreeWalker(document.querySelector('#userinfo'), NodeFilter.SHOW_TEXT);
      for (let t = w.nextNode(); t; t = w.nextNode())
        if (t.parentElement.closest('dd') && !t.parentElement.closest('bdi') && t.textContent.trim() &&
            !t.parentElement.closest('.note')) bad.push(t.textContent);
      return bad;
    });
    assert(loose.length === 0, 'user text outside <bdi>: ' + JSON.stringify(loose));
    const text = await page.locator('#userinfo').textContent();
    assert(!/[{}[\]]|"value"|"primary"/.test(text.replace('<script>alert(1)</script>', '')), 'raw JSON on the page: ' + text);
  });
  await check('"Download evidence" saves the JWS without asking the server', async () => {
    let requests = 0;
    page.on('request', r => { if (r.url().startsWith(`https://localhost:${port}`)) requests++; });
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    assert(dl.suggestedFilename() === 'sealed-login-result.jws');
    const file = path.join(out, 'browser-downloaded.jws');
    await dl.saveAs(file);
    const { readFileSync } = await import('node:fs');
    assert(readFileSync(file, 'utf8') === await page.locator('#jws').inputValue(), 'download differs from the page');
    assert(requests === 0, 'the download asked the server');
  });
  await check('"Download credential" saves the SD-JWT VC, and the wallet offer shows a QR code', async () => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-sd-jwt')]);
    assert(dl.suggestedFilename() === 'sealed-login-result.sd-jwt');
    const file = path.join(out, 'browser-downloaded.sd-jwt');
    await dl.saveAs(file);
    const { readFileSync } = await import('node:fs');
    const sd = readFileSync(file, 'utf8');
    assert(sd.endsWith('~') && sd.split('~').length > 2, 'not an SD-JWT with disclosures');
    const hdr = JSON.parse(Buffer.from(sd.split('.')[0], 'base64url'));
    assert(hdr.typ === 'dc+sd-jwt' && hdr.alg === 'ES256', JSON.stringify(hdr));
    const qr = page.locator('#offer-qr');
    assert(await qr.isVisible(), 'no QR code');
    const box = await qr.boundingBox();
    assert(box.width >= 100 && box.width <= 390, 'QR code size ' + box.width);
    assert((await page.locator('#offer-link').getAttribute('href')).startsWith('openid-credential-offer://?credential_offer='));
    const shot = path.join(out, 'browser-credential-offer.png');
    await page.locator('#credential-offer').screenshot({ path: shot });
    // the QR code, read back from the screenshot by an independent decoder (zbar), is the link
    const { execFileSync } = await import('node:child_process');
    const decoded = execFileSync('zbarimg', ['-q', '--raw', shot], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert(decoded.trim() === await page.locator('#offer-link').getAttribute('href'), 'QR code is not the offer link');
  });
  await check('this browser fetches the same result again at /result; another browser cannot', async () => {
    const jws = await page.locator('#jws').inputValue();
    const code = await page.locator('#retrieval-code').textContent();
    assert(/^[A-Z0-9]{10}$/.test(code), 'no retrieval code: ' + code);
    const cookies = await ctx.cookies(`https://localhost:${port}/`);
    const rc = cookies.find(c => c.name === '__Host-sealed_result');
    assert(rc && rc.httpOnly && rc.secure && rc.sameSite === 'Lax', 'retrieval cookie: ' + JSON.stringify(rc));
    await page.goto(`https://localhost:${port}/result`);
    assert((await page.locator('#results').textContent()).includes(code), 'code not listed');
    await audited(page, 'results-list');
    await pageShape(page);
    const again = await page.request.get(`https://localhost:${port}/result?code=${code}`);
    assert(again.status() === 200 && await again.text() === jws, 'not the same bytes');
    const other = await browser.newContext({ ignoreHTTPSErrors: true });
    const theirs = await other.request.get(`https://localhost:${port}/result?code=${code}`);
    assert(theirs.status() === 404, 'another browser got it: ' + theirs.status());
    await other.close();
  });
  await check('the same account logging in again gets the already-used page', async () => {
    await page.goto(`https://localhost:${port}/`);
    await page.click('#paypal-login');
    await page.check('input[value="mallory"]');
    await page.click('#fake-login');
    await page.waitForSelector('#title');
    assert((await page.locator('#title').textContent()).includes('already received its result'));
    await page.screenshot({ path: path.join(out, 'browser-replay.png'), fullPage: true });
    await audited(page, 'already-used');
    await pageShape(page);
  });
  await check('a right-to-left profile with bidi overrides and control characters cannot reorder the page', async () => {
    const ctx2 = await browser.newContext({ ignoreHTTPSErrors: true });
    const p2 = await ctx2.newPage();
    await p2.goto(`https://localhost:${port}/`);
    await p2.click('#paypal-login');
    await p2.check('input[value="rtl"]');
    await p2.click('#fake-login');
    await p2.waitForSelector('#result-ok', { timeout: 15000 });
    const s = await p2.evaluate(() => {
      const ui = document.querySelector('#userinfo');
      const bidi = /[\u202a-\u202e\u2066-\u2069]/;
      const loose = [];
      const w = document.createTreeWalker(ui, NodeFilter.SHOW_TEXT);
      // no bidi embedding, override or isolate reaches the page at all (each became U+FFFD), and
      // everything PayPal supplied sits in its own <bdi>
      for (let t = w.nextNode(); t; t = w.nextNode())
        if (bidi.test(t.textContent)) loose.push(t.textContent);
      // the flags after the e-mail address stay to its right, whatever the address holds
      const li = [...ui.querySelectorAll('li')].find(l => l.querySelector('.note'));
      const a = li.querySelector('bdi').getBoundingClientRect(), n = li.querySelector('.note').getBoundingClientRect();
      return { loose, emailBeforeFlags: a.right <= n.left + 1, controls: /[\u0007\u0085]/.test(ui.textContent),
               replaced: ui.textContent.includes('x\ufffd\ufffdy'), h1: document.querySelector('h1').textContent };
    });
    assert(s.loose.length === 0 && s.emailBeforeFlags && !s.controls && s.replaced && s.h1 === 'Your result', JSON.stringify(s));
    await audited(p2, 'result-rtl');
    await ctx2.close();
  });
  await check('a profile with a non-Latin name and an address abroad reads as text', async () => {
    const ctx2 = await browser.newContext({ ignoreHTTPSErrors: true });
    const p2 = await ctx2.newPage();
    await p2.goto(`https://localhost:${port}/`);
    await p2.click('#paypal-login');
    await p2.check('input[value="alice"]');
    await p2.click('#fake-login');
    await p2.waitForSelector('#result-ok', { timeout: 15000 });
    const text = await p2.locator('#userinfo').textContent();
    assert(text.includes('alice@example.com') && !/[{}[\]"]/.test(text), 'e-mail or address as JSON: ' + text);
    assert(await p2.locator('#userinfo .address').count() === 1, 'no postal address block');
    await audited(p2, 'result-alice');
    await ctx2.close();
  });
  for (const [name, url, status, shape] of [
    ['status', '/status', 200, '#status'], ['privacy', '/privacy', 200, '#privacy'], ['terms', '/terms', 200, '#terms'],
    ['not-found', '/no-such-page', 404, '#title'], ['results-none', '/result', 200, '#message']]) {
    await check(`${url}: landmarks, headings, footer links; axe finds nothing; fits a phone`, async () => {
      const other = name === 'results-none' ? await browser.newContext({ ignoreHTTPSErrors: true }) : ctx;
      const p = other === ctx ? page : await other.newPage();
      const resp = await p.goto(`https://localhost:${port}${url}`);
      await audited(p, name);
      assert(await p.locator(shape).count() === 1, `${url}: no ${shape}`);
      await pageShape(p);
      if (other !== ctx) await other.close();
    });
  }
  await check('the privacy policy and user agreement say what this service does with PayPal data', async () => {
    await page.goto(`https://localhost:${port}/privacy`);
    const t = await page.locator('main').textContent();
    for (const want of ['keyed hash', '24 hours', '__Host-sealed_login', '__Host-sealed_result', 'openid profile email'])
      assert(t.includes(want), 'privacy policy does not mention ' + want);
    await page.goto(`https://localhost:${port}/terms`);
    assert((await page.locator('main').textContent()).includes('one result'), 'user agreement');
  });
} finally {
  for (const a of audits)
    console.log(`# ${a.name}: ${a.violations.length} axe violation(s)${a.violations.length ? ' [' + a.violations.map(v => v.id).join(', ') + ']' : ''}, ` +
                `${a.phoneWidth} px wide at ${PHONE.width} px`);
  await browser.close();
  svc.kill(); fake.kill();
}
process.exit(failed ? 1 : 0);
