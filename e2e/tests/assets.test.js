// The pages' files as Chromium fetches them: gzip, an ETag the browser revalidates with (a
// 304 on reload), a favicon and no 404s; and the demo on a phone bringing the new validation
// into view and letting "Create Validation" be used again once the journey has ended.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { BASE, PHONE, DESKTOP, launch, newPage, atStep } = require('../lib');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Every response of the page's own origin, by path. */
function record(page) {
  const seen = new Map();
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.origin === new URL(BASE).origin) seen.set(u.pathname, r);
  });
  return seen;
}

test('files come gzipped with a strong ETag, and a reload revalidates to 304s', async () => {
  const page = await newPage(browser, { viewport: DESKTOP });
  const seen = record(page);
  await page.goto('/dashboard');
  await page.waitForLoadState('networkidle');
  for (const p of ['/dashboard', '/assets/dashboard.js', '/assets/pages.css', '/assets/admin-token.js']) {
    const r = seen.get(p);
    assert.ok(r, `${p} was loaded`);
    const h = await r.allHeaders();
    assert.equal(r.status(), 200, p);
    assert.equal(h['content-encoding'], 'gzip', p);
    assert.match(h.etag, /^"[0-9a-f]{16}-gz"$/, p);
    assert.equal(h['cache-control'], 'no-cache', p);
    assert.equal(h.vary, 'Accept-Encoding', p);
  }
  const tag = (await seen.get('/assets/dashboard.js').allHeaders()).etag;

  seen.clear();
  const conditional = [];
  page.on('request', async (req) => {
    if (req.url().endsWith('/assets/dashboard.js')) conditional.push((await req.allHeaders())['if-none-match']);
  });
  await page.reload();
  await page.waitForLoadState('networkidle');
  assert.deepEqual(conditional, [tag], 'the browser asks with the ETag it has');
  assert.equal(seen.get('/assets/dashboard.js').status(), 304);
  assert.equal(seen.get('/assets/pages.css').status(), 304);
  await page.context().close();
});

test('a favicon is linked and served; no page asks for anything that is missing', async () => {
  const page = await newPage(browser, { viewport: DESKTOP });
  const missing = [];
  page.on('response', (r) => { if (r.status() === 404) missing.push(r.url()); });
  for (const p of ['/demo', '/dashboard']) {
    await page.goto(p);
    await page.waitForLoadState('networkidle');
    assert.equal(await page.getAttribute('link[rel=icon]', 'href'), '/favicon.svg', p);
  }
  const ico = await page.request.get('/favicon.ico');
  assert.equal(ico.status(), 200);
  assert.equal(ico.headers()['content-type'], 'image/svg+xml');
  assert.match(await ico.text(), /^<svg/);
  const head = await page.request.head('/favicon.svg');
  assert.equal(head.status(), 200);
  assert.equal((await head.body()).length, 0, 'HEAD has no body');
  assert.deepEqual(missing, []);
  await page.context().close();
});

test('demo on a phone: the new validation scrolls into view and Create Validation comes back', { timeout: 60_000 }, async () => {
  const page = await newPage(browser, { viewport: PHONE, mobile: true });
  await page.goto('/demo?document_number=1020304050');
  await page.waitForSelector('body[data-ready="true"]');
  await page.click('[data-testid=create-validation]');
  await atStep(page, 'intro');
  const sdk = await page.locator('#truora').boundingBox();
  assert.ok(sdk.y >= 0 && sdk.y < PHONE.height / 2, `the SDK starts in view (y=${sdk.y})`);
  assert.equal(await page.isDisabled('[data-testid=create-validation]'), true, 'disabled while the journey runs');

  await page.click('[data-testid=cancel]');
  await page.waitForSelector('[data-testid=sdk-result][data-callback]');
  assert.equal(await page.isEnabled('[data-testid=create-validation]'), true, 'usable again without a reload');
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});
