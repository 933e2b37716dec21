// End-to-end journeys in a real browser: the demo page creates a validation through the API,
// the stand-in SDK walks the user through it with a fake camera, and both the SDK's callback
// and the backend's poll must report the scenario's outcome.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { DESKTOP, PHONE, launch, newPage, shot, atStep, api } = require('../lib');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Opens the demo with the given query, clicks "Create Validation", returns the new id. */
async function createFromDemo(page, query) {
  await page.goto('/demo?' + new URLSearchParams(query));
  await page.waitForSelector('body[data-ready="true"]');
  await page.click('[data-testid=create-validation]');
  await page.waitForSelector('body[data-validation-id]');
  return page.getAttribute('body', 'data-validation-id');
}

/** The journey from the intro to the upload; `snap` names screenshots when set. */
async function walk(page, { document = true, snap = null, root = '#truora' } = {}) {
  const sdk = page.locator(root);
  await atStep(page, 'intro', root);
  if (snap) await shot(sdk, `${snap}-1-intro`);
  await page.click('[data-testid=start]');
  if (document) {
    await atStep(page, 'document', root);
    await page.fill('[data-testid=document-input]', '1020304050');
    if (snap) await shot(sdk, `${snap}-2-document`);
    await page.click('[data-testid=document-submit]');
  }
  await atStep(page, 'consent', root);
  if (snap) await shot(sdk, `${snap}-3-consent`);
  await page.click('[data-testid=consent-accept]');
  await atStep(page, 'geolocation', root);
  if (snap) await shot(sdk, `${snap}-4-geolocation`);
  await page.click('[data-testid=geolocation-allow]');
  await atStep(page, 'liveness', root);
  if (snap) await shot(sdk, `${snap}-5-liveness`);
  await page.click('[data-testid=record]');
  await atStep(page, 'recording', root);
  await page.waitForFunction(() => /Grabando|Recording/.test(document.querySelector('[data-testid=countdown]')?.textContent || ''));
  if (snap) await shot(sdk, `${snap}-6-recording`);
}

async function results(page) {
  await page.waitForSelector('[data-testid=backend-result][data-status]', { timeout: 30_000 });
  return {
    callback: await page.getAttribute('[data-testid=sdk-result]', 'data-callback'),
    sdk: await page.getAttribute('[data-testid=sdk-result]', 'data-status'),
    backend: JSON.parse(await page.textContent('[data-testid=backend-result]')),
    events: await page.evaluate(() => window.demoEvents),
  };
}

test('a successful journey fires on_complete(succeeded) and the backend poll sees success', { timeout: 90_000 }, async () => {
  const page = await newPage(browser, { viewport: DESKTOP });
  const id = await createFromDemo(page, { scenario: 'success' });
  await walk(page, { snap: 'desktop' });
  await atStep(page, 'processing');
  await shot(page.locator('#truora'), 'desktop-7-processing');
  const r = await results(page);
  await atStep(page, 'result');
  await shot(page.locator('#truora'), 'desktop-8-result');
  await shot(page, 'demo-page-success');
  assert.deepEqual(r.events, [{ callback: 'on_complete', result: { status: 'succeeded', validationID: id } }]);
  assert.equal(r.backend.validation_status, 'success');
  assert.equal(r.backend.validation_id, id);
  assert.equal(await page.getAttribute('[data-testid=result-title]', 'data-result'), 'succeeded');
  assert.deepEqual(page.jsErrors, []);

  // The dashboard shows that validation, its timeline, the journey and the requests received.
  const dash = await newPage(browser, { viewport: DESKTOP });
  await dash.goto('/dashboard?validation_id=' + id);
  await dash.waitForSelector(`tr[data-validation-id="${id}"][data-status="success"]`);
  await dash.waitForSelector('[data-testid=journey-events] li');
  const events = await dash.locator('[data-testid=journey-events] li').allTextContents();
  const names = events.map((e) => e.match(/ s +(\w+) \(/)?.[1]);
  assert.deepEqual(names, ['opened', 'started', 'document_entered', 'consent_accepted', 'geolocation_granted', 'video_uploaded']);
  const timeline = await dash.locator('[data-testid=timeline] li').allTextContents();
  assert.match(timeline.at(-1), /outcome: success — current/);
  const paths = await dash.locator('[data-testid=requests] tbody tr td:nth-child(3)').allTextContents();
  assert.ok(paths.includes('/v1/validations'), paths.join('\n'));
  assert.ok(paths.some((p) => p.endsWith('/steps/liveness?device=desktop')), paths.join('\n'));
  assert.ok(paths.includes('/v1/validations/' + id), 'the backend poll is in the journal');
  assert.match(await dash.textContent('[data-testid=detail-status]'), /^success$/);
  await shot(dash, 'dashboard');
  await dash.context().close();
  await page.context().close();
});

test('a declined scenario fires on_complete(failed) on a phone, skipping the known document number', { timeout: 90_000 }, async () => {
  const page = await newPage(browser, { viewport: PHONE, mobile: true });
  const id = await createFromDemo(page, { scenario: 'declined-face-mismatch', document_number: '1020304050', lang: 'en' });
  await walk(page, { document: false, snap: 'phone' });
  const r = await results(page);
  await atStep(page, 'result');
  await shot(page.locator('#truora'), 'phone-8-result-declined');
  assert.deepEqual(r.events, [{ callback: 'on_complete', result: { status: 'failed', validationID: id } }]);
  assert.equal(r.backend.validation_status, 'failure');
  assert.equal(r.backend.failure_status, 'declined');
  assert.equal(r.backend.declined_reason, 'similarity_threshold_not_passed');
  assert.equal(await page.textContent('[data-testid=result-title]'), 'We could not verify your identity');
  await page.context().close();
});

test('a validation that times out while the user waits fires on_expired', { timeout: 60_000 }, async () => {
  const page = await newPage(browser);
  const id = await createFromDemo(page, { scenario: 'success', timeout: '3' });
  await atStep(page, 'intro');
  const r = await results(page);
  await shot(page.locator('#truora'), 'desktop-expired');
  assert.deepEqual(r.events, [{ callback: 'on_expired', result: { status: 'expired', validationID: id } }]);
  assert.equal(r.backend.validation_status, 'failure');
  assert.equal(r.backend.failure_status, 'expired');
  await page.context().close();
});

test('denying geolocation ends the validation declined with geolocation_denied', { timeout: 60_000 }, async () => {
  const page = await newPage(browser, { geolocation: false });
  const id = await createFromDemo(page, { scenario: 'success', document_number: '1020304050' });
  await atStep(page, 'intro');
  await page.click('[data-testid=start]');
  await atStep(page, 'consent');
  await page.click('[data-testid=consent-accept]');
  await atStep(page, 'geolocation');
  await page.click('[data-testid=geolocation-allow]');
  const r = await results(page);
  assert.deepEqual(r.events, [{ callback: 'on_complete', result: { status: 'failed', validationID: id } }]);
  assert.equal(r.backend.declined_reason, 'geolocation_denied');
  const detail = await api('GET', '/_mock/validations/' + id);
  assert.equal(detail.body.journey.step, 'ended');
  await page.context().close();
});

test('declining the data policy ends the validation with data_authorization_not_provided', { timeout: 60_000 }, async () => {
  const page = await newPage(browser);
  await createFromDemo(page, { scenario: 'success', document_number: '1020304050' });
  await atStep(page, 'intro');
  await page.click('[data-testid=start]');
  await atStep(page, 'consent');
  await page.click('[data-testid=consent-decline]');
  const r = await results(page);
  assert.equal(r.sdk, 'failed');
  assert.equal(r.backend.declined_reason, 'data_authorization_not_provided');
  await page.context().close();
});

test('desktop offers the phone handoff; finishing on the phone completes the desktop SDK', { timeout: 90_000 }, async () => {
  const desktop = await newPage(browser, { viewport: DESKTOP });
  const id = await createFromDemo(desktop, { scenario: 'success' });
  await atStep(desktop, 'intro');
  const qr = await desktop.request.get(`/web-adapter/v1/validations/${id}/handoff.svg`);
  assert.equal(qr.headers()['content-type'], 'image/svg+xml');
  const link = await desktop.getAttribute('[data-testid=handoff-link]', 'href');
  assert.match(link, new RegExp(`/journey/${id}\\?lang=es$`));

  const phone = await newPage(browser, { viewport: PHONE, mobile: true });
  await phone.goto(link);
  await desktop.waitForSelector('#truora[data-truora-step="handoff-waiting"]');
  await shot(desktop.locator('#truora'), 'desktop-handoff-waiting');
  await walk(phone, { root: '#app' });
  await phone.waitForSelector('#app[data-truora-step="result"]', { timeout: 30_000 });
  const r = await results(desktop);
  assert.deepEqual(r.events, [{ callback: 'on_complete', result: { status: 'succeeded', validationID: id } }]);
  await phone.context().close();
  await desktop.context().close();
});

test('an unknown validation gets a clear error in the SDK', { timeout: 30_000 }, async () => {
  const page = await newPage(browser, { viewport: PHONE, mobile: true });
  // Listen before the page loads: the SDK may log its error before goto() returns.
  const logged = [];
  page.on('console', (m) => logged.push(m.text()));
  await page.goto('/journey/VLD0123456789abcdef0123456789abcdef');
  await page.waitForSelector('#app[data-truora-step="error"]');
  // The person reads what to do, in their language; the developer's message is in the console.
  assert.match(await page.textContent('[data-testid=error-message]'), /No encontramos esta verificación/);
  assert.ok(logged.some((l) => /not found in this mock/.test(l)), logged.join('\n'));
  await page.context().close();
});

test('reopening a validation that already finished reports its outcome, not an error', { timeout: 30_000 }, async () => {
  const created = await api('POST', '/v1/validations', 'type=government&account_id=never-completes.reopen');
  const id = created.body.validation_id;
  const forced = await api('POST', `/_mock/validations/${id}/complete?status=failure&failure_status=system_error`);
  assert.equal(forced.status, 200);
  const page = await newPage(browser, { viewport: PHONE, mobile: true });
  await page.goto('/journey/' + id);
  await page.waitForSelector('#app[data-truora-step="result"]');
  assert.equal(await page.getAttribute('[data-testid=result-title]', 'data-result'), 'failed');
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});
