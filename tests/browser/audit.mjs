// Page audit shared by the browser tests (not a test itself: run.sh runs only test_*.mjs):
// axe-core's default rule set (WCAG 2.x A/AA and best practices) must find no violation, the page
// must fit a 390-pixel-wide phone without horizontal scrolling, and a desktop and a phone
// screenshot go to the output folder for a person to look at.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };

// The pages forbid scripts by CSP; Playwright's evaluate is the DevTools protocol, not a page
// script, so axe runs without loosening the policy the pages are served with.
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object')))
    await page.evaluate(AXE);
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')) }));
}

// Audits the page as it is now (no reload: the result page cannot be fetched twice) at both
// sizes; returns { violations, phoneWidth }. Leaves the page at desktop size.
export async function auditPage(page, name, out) {
  await page.setViewportSize(DESKTOP);
  const violations = await axeViolations(page);
  await page.screenshot({ path: path.join(out, `page-${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  const phoneWidth = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
  const phoneViolations = await axeViolations(page);
  await page.screenshot({ path: path.join(out, `page-${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
  const seen = new Set(violations.map(v => v.id));
  for (const v of phoneViolations) if (!seen.has(v.id)) violations.push(v);
  return { violations, phoneWidth };
}

export function describeViolations(vs) {
  return vs.map(v => `${v.impact} ${v.id} (${v.help}): ${v.nodes.join(' | ')}`).join('\n');
}
