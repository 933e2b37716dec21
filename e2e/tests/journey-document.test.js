// The document number: one rule for the API and the journey, checked inline, what was typed
// kept, dots and spaces accepted, nothing cut short.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { PHONE, launch, newPage, atStep, api } = require('../lib');
const { createValidation, checkScreen } = require('../journey-lib');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// The same table as mock-server/src/document.rs's unit test.
const CASES = [
  ['1020304050', '1020304050'], ['1.020.304.050', '1020304050'], ['1 020 304 050', '1020304050'],
  ['123', '123'], ['123456789012345', '123456789012345'], ['12', null], ['1234567890123456', null],
  ['12a45', null], ['1-020-304', null],
];

test('the API and the SDK agree on every document number', { timeout: 30_000 }, async () => {
  const page = await newPage(browser, { viewport: PHONE, mobile: true });
  await page.goto('/journey/VLD0123456789abcdef0123456789abcdef');
  await page.waitForFunction(() => window.TruoraSDK && window.TruoraSDK.normaliseDocument);
  for (const [raw, want] of CASES) {
    const sdk = await page.evaluate((r) => window.TruoraSDK.normaliseDocument(r), raw);
    assert.equal(sdk, want, `SDK ${raw}`);
    const created = await api('POST', '/v1/validations', 'type=government&document_number=' + encodeURIComponent(raw));
    assert.equal(created.status === 200, want !== null, `API ${raw}: ${JSON.stringify(created.body)}`);
  }
  await page.context().close();
});

test('a bad number is flagged inline, keeps what was typed, and a formatted one goes through', { timeout: 60_000 }, async () => {
  const id = await createValidation('success');
  const page = await newPage(browser, { viewport: PHONE, mobile: true });
  await page.goto(`/journey/${id}`);
  await atStep(page, 'intro', '#app');
  await page.click('[data-testid=start]');
  await atStep(page, 'document', '#app');
  assert.equal(await page.getAttribute('[data-testid=document-input]', 'maxlength'), null, 'no silent truncation');
  await page.fill('[data-testid=document-input]', '12');
  await page.click('[data-testid=document-submit]');
  await page.waitForSelector('[data-testid=document-input][aria-invalid="true"]');
  assert.equal(await page.getAttribute('#app', 'data-truora-step'), 'document', 'the screen stays');
  assert.equal(await page.inputValue('[data-testid=document-input]'), '12', 'what was typed is kept');
  assert.match(await page.textContent('[data-testid=document-error]'), /entre 3 y 15 dígitos/);
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('data-testid')), 'document-input');
  await checkScreen(page, 'phone document (invalid)', { root: '#app', focus: false });
  await page.fill('[data-testid=document-input]', '1.020.304.050');
  assert.equal(await page.inputValue('[data-testid=document-input]'), '1.020.304.050', 'all 13 characters kept');
  await page.click('[data-testid=document-submit]');
  await atStep(page, 'consent', '#app');
  const detail = await api('GET', '/_mock/validations/' + id);
  assert.equal(detail.body.journey.document_number, '1020304050');
  await page.context().close();
});
