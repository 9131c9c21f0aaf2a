// Browser test: headless Chromium clicks "Log in with PayPal", goes through the local stand-in
// PayPal, lands on the result page and checks what it shows; a second login with the same
// account gets the "already received" page. Screenshots go to tests/out/. TAP lines for run.sh.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium } from 'playwright-core';

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
const fake = spawn('python3', [path.join(root, 'tests/fakes/fake_paypal.py'), '--port', String(fakePort),
  '--client-id', clientId, '--redirect-uri', `https://localhost:${port}/callback`],
  { env: { ...process.env, FAKE_PAYPAL_CLIENT_SECRET: secret }, stdio: ['ignore', 'pipe', 'inherit'] });
await firstLine(fake, 'listening');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PAYPAL_') && !k.startsWith('SEALED_')));
const svc = spawn(path.join(root, 'build/sealed-login'), [], {
  env: { ...env, PAYPAL_ENV: 'local', PAYPAL_CLIENT_ID: clientId, PAYPAL_SECRET: secret,
    PAYPAL_AUTHORIZE_URL: `http://localhost:${fakePort}/signin/authorize`, PAYPAL_API_BASE: `http://127.0.0.1:${fakePort}`,
    SEALED_HTTPS_PORT: String(port), SEALED_LISTEN: '127.0.0.1', SEALED_DOMAIN: `localhost:${port}`,
    SEALED_IDSET_CAPACITY: '1000' }, stdio: ['ignore', 'pipe', 'ignore'] });
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
  await check('this browser fetches the same result again at /result; another browser cannot', async () => {
    const jws = await page.locator('#jws').inputValue();
    const code = await page.locator('#retrieval-code').textContent();
    assert(/^[A-Z0-9]{10}$/.test(code), 'no retrieval code: ' + code);
    const cookies = await ctx.cookies(`https://localhost:${port}/`);
    const rc = cookies.find(c => c.name === '__Host-sealed_result');
    assert(rc && rc.httpOnly && rc.secure && rc.sameSite === 'Lax', 'retrieval cookie: ' + JSON.stringify(rc));
    await page.goto(`https://localhost:${port}/result`);
    assert((await page.locator('#results').textContent()).includes(code), 'code not listed');
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
  });
} finally {
  await browser.close();
  svc.kill(); fake.kill();
}
process.exit(failed ? 1 : 0);
