// Shared helpers for the browser tests: one headless Debian chromium, a fresh context per test.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const BASE = process.env.MOCK_URL;
if (!BASE) throw new Error('MOCK_URL is not set; run the tests through e2e/run.sh');
const ARTIFACTS = path.join(__dirname, 'artifacts');
fs.mkdirSync(ARTIFACTS, { recursive: true });

const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 780 };
const BOGOTA = { latitude: 4.6097, longitude: -74.0817 };

async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    ],
  });
}

/** A page in a new context. `geolocation: false` leaves the permission ungranted, so the
 * browser's prompt is dismissed (denied) as a user refusing it would. */
async function newPage(browser, { viewport = DESKTOP, geolocation = true, mobile = false } = {}) {
  const context = await browser.newContext({
    baseURL: BASE,
    viewport,
    isMobile: mobile,
    hasTouch: mobile,
    geolocation: geolocation ? BOGOTA : undefined,
    permissions: geolocation ? ['geolocation', 'camera'] : ['camera'],
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.jsErrors = errors;
  return page;
}

/** Saves a screenshot under e2e/artifacts/ (kept by CI as test artifacts). */
async function shot(target, name) {
  await target.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/** Waits until the SDK shows `step` (the `data-truora-step` attribute of its root). */
async function atStep(page, step, root = '#truora') {
  await page.waitForSelector(`${root}[data-truora-step="${step}"]`);
}

async function api(method, p, body) {
  const headers = { 'Truora-API-Key': 'e2e-key' };
  if (body) headers['Content-Type'] = 'application/x-www-form-urlencoded';
  const r = await fetch(BASE + p, { method, headers, body });
  return { status: r.status, body: await r.json() };
}

/** Every axe-core result of this test process, by the name each check was given; written to
 * artifacts/axe-<test file>.json so a run's counts by severity can be quoted. */
const AXE_LOG = path.join(ARTIFACTS, `axe-${path.basename(process.argv[1] || 'run', '.js')}.json`);
const axeResults = {};

/**
 * Runs axe-core (WCAG 2.0/2.1 A and AA rules) on the page as it is now and fails the test on
 * any serious or critical violation, listing each with its nodes. `name` labels the screen in
 * the log. Returns the counts by impact, e.g. `{ minor: 1, moderate: 0, serious: 0, critical: 0 }`.
 */
async function axeCheck(page, name) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.addScriptTag({ content: AXE_SOURCE });
  }
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
  const counts = { minor: 0, moderate: 0, serious: 0, critical: 0 };
  for (const v of violations) counts[v.impact] = (counts[v.impact] || 0) + v.nodes.length;
  axeResults[name] = { counts, violations };
  fs.writeFileSync(AXE_LOG, JSON.stringify(axeResults, null, 2));
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    const detail = bad.map((v) => `  ${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.join('\n    ')}`).join('\n');
    throw new Error(`axe-core on ${name}: ${bad.length} serious or critical violation(s)\n${detail}`);
  }
  return counts;
}

module.exports = { BASE, ARTIFACTS, DESKTOP, PHONE, launch, newPage, shot, atStep, api, axeCheck };
