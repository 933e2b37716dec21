// Accessibility of the journey, screen by screen, on desktop (inside /demo) and on a phone (the
// /journey page): axe-core on every screen and the demo, focus on each new screen's heading,
// a live region, a visible focus ring, and the /journey page's landmark, h1, title and lang.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { DESKTOP, PHONE, launch, newPage, shot, atStep, axeCheck } = require('../lib');
const { createValidation, checkScreen, assertNoCodes, walkChecked } = require('../journey-lib');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('desktop: the demo and every journey screen pass axe, focus follows the screens, results are announced', { timeout: 120_000 }, async () => {
  const page = await newPage(browser, { viewport: DESKTOP });
  await page.goto('/demo?scenario=success');
  await page.waitForSelector('body[data-ready="true"]');
  await axeCheck(page, 'demo (before create)');
  await page.click('[data-testid=create-validation]');
  await page.waitForSelector('body[data-validation-id]');
  await walkChecked(page, 'desktop');
  await atStep(page, 'processing');
  await checkScreen(page, 'desktop processing');
  await page.waitForSelector('#truora[data-truora-step="result"]', { timeout: 30_000 });
  const s = await checkScreen(page, 'desktop result success');
  assert.match(s.live, /verificada con éxito/);
  await axeCheck(page, 'demo (after the journey)');
  // A keyboard user sees where focus is: the focus ring is drawn.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Tab');
  const ring = await page.evaluate(() => {
    const cs = getComputedStyle(document.activeElement);
    return { tag: document.activeElement.tagName, style: cs.outlineStyle, width: cs.outlineWidth };
  });
  assert.notEqual(ring.style, 'none', JSON.stringify(ring));
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

test('phone: the /journey page in English has its title, lang, main and h1, and every screen passes axe', { timeout: 120_000 }, async () => {
  const id = await createValidation('declined-face-mismatch');
  const page = await newPage(browser, { viewport: PHONE, mobile: true });
  await page.goto(`/journey/${id}?lang=en`);
  await atStep(page, 'intro', '#app');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.title(), 'Identity verification · TruIdentidad (mock)');
  assert.equal(await page.locator('main h1').textContent(), 'Identity verification');
  await walkChecked(page, 'phone', { root: '#app' });
  await atStep(page, 'processing', '#app');
  await checkScreen(page, 'phone processing', { root: '#app' });
  await page.waitForSelector('#app[data-truora-step="result"]', { timeout: 30_000 });
  const s = await checkScreen(page, 'phone result declined', { root: '#app' });
  const text = await page.textContent('#app .truora-card');
  assertNoCodes(text, 'declined result');
  assertNoCodes(s.live, 'declined announcement');
  assert.match(text, /We could not verify your identity/);
  await shot(page.locator('#app'), 'phone-result-declined-friendly');
  await page.context().close();
});

test('the error screen speaks the person\'s language and passes axe', { timeout: 30_000 }, async () => {
  const page = await newPage(browser, { viewport: PHONE, mobile: true });
  await page.goto('/journey/VLD0123456789abcdef0123456789abcdef?lang=en');
  await page.waitForSelector('#app[data-truora-step="error"]');
  await checkScreen(page, 'phone error', { root: '#app' });
  const text = await page.textContent('#app .truora-card');
  assertNoCodes(text, 'error');
  assert.match(text, /We could not find this verification/);
  await page.context().close();
});
