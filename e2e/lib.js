// Shared helpers for the browser tests: one headless Debian chromium, a fresh context per test.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

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

module.exports = { BASE, ARTIFACTS, DESKTOP, PHONE, launch, newPage, shot, atStep, api };
