// Desktop-to-phone handoff: the QR code and link keep the language, the phone page is in that
// language, and either device can take the journey back.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { DESKTOP, PHONE, launch, newPage, atStep, shot } = require('../lib');
const { checkScreen } = require('../journey-lib');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('handoff keeps lang, and the desktop can take the journey back and finish it', { timeout: 120_000 }, async () => {
  const desktop = await newPage(browser, { viewport: DESKTOP });
  await desktop.goto('/demo?' + new URLSearchParams({ scenario: 'success', lang: 'en' }));
  await desktop.waitForSelector('body[data-ready="true"]');
  await desktop.click('[data-testid=create-validation]');
  await desktop.waitForSelector('body[data-validation-id]');
  const id = await desktop.getAttribute('body', 'data-validation-id');
  await atStep(desktop, 'intro');
  const qrSrc = await desktop.getAttribute('[data-testid=handoff-qr]', 'src');
  assert.match(qrSrc, /\/handoff\.svg\?lang=en$/);
  const link = await desktop.getAttribute('[data-testid=handoff-link]', 'href');
  assert.match(link, new RegExp(`/journey/${id}\\?lang=en$`));
  // The QR code is drawn for the link with the language (the server refuses an unknown lang).
  const svg = await (await desktop.request.get(qrSrc)).text();
  assert.ok(svg.startsWith('<svg'));

  const phone = await newPage(browser, { viewport: PHONE, mobile: true });
  await phone.goto(link);
  await atStep(phone, 'intro', '#app');
  assert.equal(await phone.getAttribute('html', 'lang'), 'en');
  assert.match(await phone.title(), /^Identity verification/);
  await phone.click('[data-testid=start]');
  await atStep(phone, 'document', '#app');

  await desktop.waitForSelector('#truora[data-truora-step="handoff-waiting"]');
  await checkScreen(desktop, 'desktop handoff-waiting');
  await shot(desktop.locator('#truora'), 'desktop-handoff-waiting');
  await desktop.click('[data-testid=take-back]');
  // The desktop continues where the phone stopped.
  await atStep(desktop, 'document');
  await checkScreen(desktop, 'desktop document (taken back)');
  await phone.waitForSelector('#app[data-truora-step="handoff-waiting"]');
  await checkScreen(phone, 'phone handoff-waiting', { root: '#app' });
  assert.match(await phone.textContent('#app'), /Continue on your computer/);

  await desktop.fill('[data-testid=document-input]', '1020304050');
  await desktop.click('[data-testid=document-submit]');
  await atStep(desktop, 'consent');
  await desktop.click('[data-testid=consent-accept]');
  await atStep(desktop, 'geolocation');
  await desktop.click('[data-testid=geolocation-allow]');
  await atStep(desktop, 'liveness');
  await desktop.click('[data-testid=record]');
  await desktop.waitForSelector('[data-testid=sdk-result][data-status]', { timeout: 30_000 });
  assert.deepEqual(await desktop.evaluate(() => window.demoEvents),
    [{ callback: 'on_complete', result: { status: 'succeeded', validationID: id } }]);
  await phone.waitForSelector('#app[data-truora-step="result"]', { timeout: 30_000 });
  assert.deepEqual(desktop.jsErrors, []);
  assert.deepEqual(phone.jsErrors, []);
  await phone.context().close();
  await desktop.context().close();
});
