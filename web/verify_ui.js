/* verify_ui: the browser verifier's page logic (build/sealed-verify.html). It only moves bytes and
 * words: the files you give go into the WebAssembly module's in-memory file system, the options
 * become the command-line arguments of `sealed-verify result ... --json`, and the C verifier's JSON
 * is shown as it is. It decides nothing itself: every step, its status and text, the summary and
 * the verdict come from the C code. It never touches the network (the page's CSP forbids it) and
 * writes text only through textContent, so a hostile result cannot inject markup. */
'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var MARK = { pass: '\u2713', fail: '\u2717', warn: '!', info: '\u00b7' };

  /* The options, in the order the command line would take them: [flag, kind, label, help]. Every
   * element carries data-flag, so a test (or a person) maps CLI arguments to it one to one. */
  var OPTIONS = [
    ['--manifest', 'file', 'Build manifest (build-manifest.json)',
     'the expected measurements of the image you rebuilt; without it (or an expected value) nothing is proven about which code ran'],
    ['--expect-measurement', 'text', 'Expected measurement (96 hex digits)', 'instead of a manifest: the SNP launch digest or TDX MRTD you expect'],
    ['--client-id', 'text', 'Your PayPal client id', 'the result must be for this client'],
    ['--signer-key', 'file', "The service's published signing key (JWK or PEM)", 'the result must be signed by this key'],
    ['--at', 'text', 'Verification time (RFC 3339 or @unix; empty: now)', 'decides certificate validity and "not in the future"'],
    ['--max-skew', 'text', 'Clock tolerance in seconds (empty: 300)', ''],
    ['--allow-unattested', 'flag', 'Accept a result without hardware evidence (type none)', 'it is then only signed, not attested'],
    ['--skip-measurement', 'flag', 'Do not compare the measurement', 'then nothing is proven about which code ran'],
    ['--allow-unrooted-ak', 'flag', 'Accept a TPM quote whose key no vendor certified', 'whoever holds that key could have made it'],
    ['--allow-unsigned', 'flag', 'Accept a bare payload without its signature', ''],
    ['--allow-future-iat', 'flag', 'Accept an issue time in the future', ''],
    ['--allow-kid-mismatch', 'flag', 'Accept a key id that is not the key\u2019s thumbprint', ''],
    ['--allow-report-data-mismatch', 'flag', 'Accept evidence not bound to this result (REPORT_DATA mismatch)', ''],
    ['--allow-debug', 'flag', 'Accept a debug VM (SNP policy / TDX attributes)', 'its memory can be read by the host'],
    ['--allow-migration-agent', 'flag', 'Accept an SNP migration agent', ''],
    ['--allow-unknown-version', 'flag', 'Accept an SNP report of an unknown version', ''],
    ['--allow-option-roms', 'flag', 'Accept firmware device drivers (option ROMs) in the measured boot', ''],
    ['--allow-dirty', 'flag', 'Accept an image built from uncommitted source (+dirty)', 'nobody can rebuild it from the published source'],
    ['--allow-provisional-firmware', 'flag', 'Accept SNP firmware not yet committed (COMMITTED_TCB below CURRENT_TCB)', 'the host can roll it back'],
    ['--product', 'text', 'SNP product (Milan, Genoa or Turin; empty: from the report)', ''],
    ['--vmpl', 'text', 'SNP VMPL expected (0-3 or any; empty: 0)', ''],
    ['--signer', 'text', 'SNP signer allowed (vcek, vlek or vcek,vlek)', ''],
    ['--min-tcb', 'text', 'SNP minimum TCB (bl=N,tee=N,snp=N,ucode=N[,fmc=N]; empty: AMD bulletin floor)', ''],
    ['--min-launch-tcb', 'text', 'SNP minimum launch TCB (empty: the same as the minimum TCB)', ''],
    ['--vcek', 'file', 'VCEK from AMD KDS, when the evidence carries none', ''],
    ['--vlek', 'file', 'VLEK, when the evidence carries none', ''],
    ['--chain', 'file', 'ASK/ARK chain (PEM), when the evidence carries none', ''],
    ['--crl', 'file', 'AMD CRL for the product (from sealed-verify fetch or AMD KDS)', 'without it revocation is not checked'],
    ['--trust-root', 'file', 'TEST root for SNP/TDX chains (PEM)', 'TEST ONLY: a chain ending here proves nothing about real hardware'],
    ['--tpm-ca', 'file', 'TEST root for TPM attestation keys (PEM)', 'TEST ONLY: a key certified here proves nothing about a real TPM']
  ];
  var GROUPS = {
    basic: ['--manifest', '--expect-measurement', '--client-id', '--signer-key'],
    flags: ['--allow-unattested', '--skip-measurement', '--allow-unrooted-ak', '--allow-unsigned', '--allow-future-iat',
            '--allow-kid-mismatch', '--allow-report-data-mismatch', '--allow-debug', '--allow-migration-agent',
            '--allow-unknown-version', '--allow-option-roms', '--allow-dirty', '--allow-provisional-firmware'],
    advanced: ['--at', '--max-skew', '--vmpl', '--signer', '--min-tcb', '--min-launch-tcb', '--product', '--vcek', '--vlek',
               '--chain', '--crl'],
    test: ['--trust-root', '--tpm-ca']
  };

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function buildForm() {
    var byFlag = {};
    OPTIONS.forEach(function (o) { byFlag[o[0]] = o; });
    Object.keys(GROUPS).forEach(function (g) {
      var box = $('opts-' + g);
      GROUPS[g].forEach(function (flag) {
        var o = byFlag[flag], id = 'opt' + flag.replace(/-/g, '_');
        var row = el('div', { 'class': 'opt opt-' + o[1] + (g === 'test' ? ' test' : '') });
        var input;
        if (o[1] === 'flag') {
          input = el('input', { type: 'checkbox', id: id, 'data-flag': flag });
          row.appendChild(input);
          row.appendChild(el('label', { 'for': id }, o[2]));
        } else {
          row.appendChild(el('label', { 'for': id }, o[2]));
          input = el('input', { type: o[1], id: id, 'data-flag': flag, spellcheck: 'false', autocomplete: 'off' });
          row.appendChild(input);
        }
        var help = el('span', { 'class': 'help' }, (o[3] ? o[3] + ' ' : '') + '(' + flag + ')');
        row.appendChild(help);
        box.appendChild(row);
      });
    });
  }

  /* ---- the WebAssembly module (the C verifier), instantiated once from the embedded bytes ---- */
  var sink = { out: [], err: [] };
  var modulePromise = null;
  function loadModule() {
    if (!modulePromise) {
      var b64 = $('sv-wasm').textContent.replace(/\s+/g, '');
      var raw = atob(b64), bin = new Uint8Array(raw.length);
      for (var i = 0; i < raw.length; i++) bin[i] = raw.charCodeAt(i);
      /* global SealedVerify: the emscripten module factory, inlined above */
      modulePromise = SealedVerify({
        wasmBinary: bin,
        print: function (l) { sink.out.push(l); },
        printErr: function (l) { sink.err.push(l); }
      });
    }
    return modulePromise;
  }

  function safeName(n, used) {
    n = String(n || 'file').replace(/[\/\\\x00-\x1f]/g, '_');
    if (n === '.' || n === '..' || n === '') n = 'file';
    var base = n, k = 2;
    while (used[n]) n = k++ + '-' + base;
    used[n] = 1;
    return n;
  }

  /* Runs `sealed-verify result <file> <args> --json` inside the module; files are [name, bytes]. */
  function runVerifier(mod, files, args) {
    var FS = mod.FS;
    try { FS.mkdir('/work'); } catch (e) { /* exists */ }
    FS.chdir('/work');
    FS.readdir('/work').forEach(function (n) { if (n !== '.' && n !== '..') FS.unlink('/work/' + n); });
    files.forEach(function (f) { FS.writeFile('/work/' + f[0], f[1]); });
    sink.out = []; sink.err = [];
    var ptrs = args.map(function (a) {
      var n = mod.lengthBytesUTF8(a) + 1, p = mod._malloc(n);
      mod.stringToUTF8(a, p, n);
      return p;
    });
    var argv = mod._malloc(4 * (ptrs.length + 1));
    ptrs.forEach(function (p, i) { mod.HEAPU32[(argv >> 2) + i] = p; });
    mod.HEAPU32[(argv >> 2) + ptrs.length] = 0;
    var rc = mod._sv_web_result(ptrs.length, argv);
    ptrs.forEach(function (p) { mod._free(p); });
    mod._free(argv);
    return { rc: rc, out: sink.out.join('\n'), err: sink.err.join('\n') };
  }

  function readFile(f) {
    return new Promise(function (resolve, reject) {
      var r = new FileReader();
      r.onload = function () { resolve(new Uint8Array(r.result)); };
      r.onerror = function () { reject(r.error); };
      r.readAsArrayBuffer(f);
    });
  }

  var resultFile = null;

  /* The argument list and files for the current form, in the command line's order. */
  async function collect() {
    var used = {}, files = [], args = [];
    var rname = safeName(resultFile.name, used);
    files.push([rname, await readFile(resultFile)]);
    args.push(rname);
    for (var i = 0; i < OPTIONS.length; i++) {
      var flag = OPTIONS[i][0], kind = OPTIONS[i][1];
      var input = document.querySelector('[data-flag="' + flag + '"]');
      if (kind === 'flag') {
        if (input.checked) args.push(flag);
      } else if (kind === 'text') {
        var v = input.value.trim();
        if (v !== '') args.push(flag, v);
      } else if (input.files && input.files.length) {
        var n = safeName(input.files[0].name, used);
        files.push([n, await readFile(input.files[0])]);
        args.push(flag, n);
      }
    }
    return { files: files, args: args };
  }

  function quoteArg(a) {
    return /^[A-Za-z0-9_.,:=@+\/-]+$/.test(a) ? a : "'" + a.replace(/'/g, "'\\''") + "'";
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function show(res, args) {
    var out = $('output');
    out.hidden = false;
    $('command').textContent = 'sealed-verify result ' + args.map(quoteArg).join(' ') + ' --json';
    var steps = $('steps'), proven = $('proven'), notProven = $('not-proven');
    clear(steps); clear(proven); clear(notProven);
    $('error').textContent = '';
    var j = null;
    try { j = JSON.parse(res.out); } catch (e) { j = null; }
    var verdict = $('verdict'), detail = $('verdict-detail');
    if (!j || res.rc === 2) {
      verdict.textContent = 'FAIL';
      verdict.className = 'fail';
      detail.textContent = 'the verifier could not run on these inputs';
      $('error').textContent = res.err || 'no output';
      $('output').setAttribute('data-rc', String(res.rc));
      return null;
    }
    j.steps.forEach(function (s) {
      var li = el('li', { 'class': 'step ' + s.status, 'data-id': s.id, 'data-status': s.status });
      li.appendChild(el('span', { 'class': 'mark', 'aria-label': s.status }, MARK[s.status] || '?'));
      li.appendChild(el('span', { 'class': 'text' }, s.text));
      li.appendChild(el('span', { 'class': 'sid' }, s.id));
      steps.appendChild(li);
    });
    var sum = (j.fields && j.fields.summary) || {};
    (sum.proven || []).forEach(function (t) { proven.appendChild(el('li', {}, t)); });
    (sum.not_proven || []).forEach(function (t) { notProven.appendChild(el('li', {}, t)); });
    if (!(sum.proven || []).length) proven.appendChild(el('li', { 'class': 'none' }, 'nothing'));
    if (!(sum.not_proven || []).length) notProven.appendChild(el('li', { 'class': 'none' }, 'nothing left open'));
    var pass = j.ok === true && res.rc === 0;
    verdict.textContent = pass ? 'PASS' : 'FAIL';
    verdict.className = pass ? 'pass' : 'fail';
    /* the C verifier's verdict line qualifies a PASS (signed only, TEST root, ...); a FAIL is
     * explained by the count and the marked steps */
    var v = typeof sum.verdict === 'string' ? sum.verdict : '';
    detail.textContent = pass ? v.replace(/^PASS\s*/, '') : '';
    $('failed-count').textContent = j.failed ? j.failed + ' check' + (j.failed === 1 ? '' : 's') +
      ' failed (marked \u2717 below)' : '';
    $('output').setAttribute('data-rc', String(res.rc));
    return j;
  }

  async function verify() {
    if (!resultFile) return;
    var verdict = $('verdict');
    verdict.textContent = '';
    verdict.className = '';
    $('output').removeAttribute('data-rc');   /* set again when this run is shown */
    $('status').textContent = 'verifying\u2026';
    try {
      var mod = await loadModule();
      var c = await collect();
      var res = runVerifier(mod, c.files, c.args);
      window.sealedVerifyLast = { rc: res.rc, json: res.out, stderr: res.err, args: c.args };
      show(res, c.args);
      $('status').textContent = '';
      $('banner').scrollIntoView({ block: 'start' });
    } catch (e) {
      $('status').textContent = 'error: ' + e;
      verdict.textContent = 'FAIL';
      verdict.className = 'fail';
      $('output').setAttribute('data-rc', 'error');
    }
  }

  function setResult(f) {
    resultFile = f;
    $('result-name').textContent = f ? f.name + ' (' + f.size + ' bytes)' : 'no file chosen';
    $('verify').disabled = !f;
    if (f) verify();
  }

  document.addEventListener('DOMContentLoaded', function () {
    buildForm();
    $('result-file').addEventListener('change', function (e) { setResult(e.target.files[0] || null); });
    $('verify').addEventListener('click', verify);
    var drop = $('drop');
    /* a file dropped anywhere must not make the browser open it (and leave this page) */
    ['dragover', 'drop'].forEach(function (t) {
      window.addEventListener(t, function (e) { e.preventDefault(); });
    });
    drop.addEventListener('dragover', function () { drop.classList.add('over'); });
    drop.addEventListener('dragleave', function () { drop.classList.remove('over'); });
    drop.addEventListener('drop', function (e) {
      drop.classList.remove('over');
      if (e.dataTransfer.files.length) setResult(e.dataTransfer.files[0]);
    });
    loadModule().then(function () { $('status').textContent = ''; $('ready').textContent = 'verifier loaded'; },
                      function (e) { $('status').textContent = 'the verifier did not load: ' + e; });
  });
})();
