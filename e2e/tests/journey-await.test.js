// Await-person mode in a real browser: the outcome waits for the person however late the SDK
// opens, and the person's own actions decide the endings that are theirs.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { DESKTOP, PHONE, launch, newPage, atStep, api } = require('../lib');
const { createValidation, assertNoCodes } = require('../journey-lib');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The short path: the intro up to the upload, with a known document number. */
async function quickWalk(page, root = '#app') {
  await atStep(page, 'intro', root);
  await page.click('[data-testid=start]');
  await atStep(page, 'document', root);
  await page.fill('[data-testid=document-input]', '1020304050');
  await page.click('[data-testid=document-submit]');
  await atStep(page, 'consent', root);
  await page.click('[data-testid=consent-accept]');
  await atStep(page, 'geolocation', root);
  await page.click('[data-testid=geolocation-allow]');
  await atStep(page, 'liveness', root);
  await page.click('[data-testid=record]');
}

async function resultOf(page, root = '#app') {
  await page.waitForSelector(`${root}[data-truora-step="result"]`, { timeout: 30_000 });
  return {
    result: await page.getAttribute('[data-testid=result-title]', 'data-result'),
    text: await page.textContent(`${root} .truora-card`),
  };
}

test('await-person: an SDK opened 5 s after the create still shows the whole journey', { timeout: 90_000 }, async () => {
  const awaiting = await createValidation('success');
  const fast = await createValidation('success', { awaitPerson: false });
  await new Promise((r) => setTimeout(r, 5000)); // the person reads the integrator's page
  assert.equal((await api('GET', '/v1/validations/' + awaiting)).body.validation_status, 'pending');

  const late = await newPage(browser, { viewport: PHONE, mobile: true });
  await late.goto(`/journey/${fast}`);
  const r = await resultOf(late);
  assert.equal(r.result, 'succeeded', 'the fast path finished before the person arrived');
  await late.context().close();

  const page = await newPage(browser, { viewport: PHONE, mobile: true });
  await page.goto(`/journey/${awaiting}`);
  await quickWalk(page);
  await atStep(page, 'processing', '#app');
  assert.equal((await api('GET', '/v1/validations/' + awaiting)).body.validation_status, 'pending');
  const done = await resultOf(page);
  assert.equal(done.result, 'succeeded');
  assert.equal((await api('GET', '/v1/validations/' + awaiting)).body.validation_status, 'success');
  await page.context().close();
});

test('await-person: scenarios about the person never contradict what they did', { timeout: 120_000 }, async () => {
  for (const scenario of ['declined-data-authorization', 'expired-not-finished']) {
    const id = await createValidation(scenario, { extra: '&timeout=60' });
    const page = await newPage(browser, { viewport: PHONE, mobile: true });
    await page.goto(`/journey/${id}`);
    await quickWalk(page);
    const r = await resultOf(page);
    assert.equal(r.result, 'succeeded', `${scenario}: the person accepted and recorded`);
    const backend = (await api('GET', '/v1/validations/' + id)).body;
    assert.equal(backend.validation_status, 'success', JSON.stringify(backend));
    await page.context().close();
  }
});

test('await-person: the person declining the policy decides the ending, told without codes', { timeout: 60_000 }, async () => {
  const id = await createValidation('declined-face-mismatch');
  const page = await newPage(browser, { viewport: DESKTOP });
  await page.goto(`/journey/${id}?lang=en`);
  await atStep(page, 'intro', '#app');
  await page.click('[data-testid=start]');
  await atStep(page, 'document', '#app');
  await page.fill('[data-testid=document-input]', '1020304050');
  await page.click('[data-testid=document-submit]');
  await atStep(page, 'consent', '#app');
  await page.click('[data-testid=consent-decline]');
  const r = await resultOf(page);
  assert.equal(r.result, 'failed');
  assert.match(r.text, /You did not accept the data policy/);
  assertNoCodes(r.text, 'policy declined');
  const backend = (await api('GET', '/v1/validations/' + id)).body;
  assert.equal(backend.declined_reason, 'data_authorization_not_provided');
  await page.context().close();
});

test('await-person: a timeout before the upload reports that the file was not uploaded', { timeout: 60_000 }, async () => {
  const id = await createValidation('declined-face-mismatch', { extra: '&timeout=4' });
  const page = await newPage(browser, { viewport: PHONE, mobile: true });
  await page.goto(`/journey/${id}`);
  await atStep(page, 'intro', '#app');
  const r = await resultOf(page);
  assert.equal(r.result, 'expired');
  assert.match(r.text, /El tiempo para verificar tu identidad terminó/);
  const backend = (await api('GET', '/v1/validations/' + id)).body;
  assert.equal(backend.expired_reason, 'input_file_not_uploaded');
  await page.context().close();
});
