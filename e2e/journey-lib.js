// Helpers for the journey browser tests (journey-*.test.js): create validations, walk the
// journey screen by screen, and check each screen as a person (and a screen reader) meets it.
'use strict';
const assert = require('node:assert/strict');
const { atStep, api, axeCheck, shot } = require('./lib');

/** `POST /v1/validations` for `scenario`, in await-person mode unless `awaitPerson` is false. */
async function createValidation(scenario, { awaitPerson = true, extra = '' } = {}) {
  const headers = { 'Truora-API-Key': 'e2e-key', 'Content-Type': 'application/x-www-form-urlencoded' };
  if (awaitPerson !== null) headers['X-Mock-Await-Person'] = String(awaitPerson);
  const r = await fetch(process.env.MOCK_URL + '/v1/validations', {
    method: 'POST', headers, body: `type=government&account_id=${scenario}.e2e${extra}`,
  });
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body));
  return body.validation_id;
}

/**
 * Checks the screen the SDK under `root` shows now: axe-core finds nothing serious or critical,
 * focus sits on the screen's heading (except the first screen), and the live region says the
 * heading. `label` names the screen in the axe log.
 */
async function checkScreen(page, label, { root = '#truora', focus = true } = {}) {
  await axeCheck(page, label);
  const s = await page.evaluate((sel) => {
    const r = document.querySelector(sel);
    const h = r.querySelector('.truora-card h2');
    return {
      heading: h && h.textContent,
      tabindex: h && h.getAttribute('tabindex'),
      focused: document.activeElement === h,
      live: (r.querySelector('[data-testid=live]') || {}).textContent,
      liveRole: (r.querySelector('[data-testid=live]') || { getAttribute: () => null }).getAttribute('aria-live'),
    };
  }, root);
  assert.ok(s.heading, `${label}: the screen has a heading`);
  assert.equal(s.tabindex, '-1', `${label}: the heading can take focus`);
  if (focus) assert.ok(s.focused, `${label}: focus is on the heading "${s.heading}"`);
  assert.equal(s.liveRole, 'polite', `${label}: a polite live region`);
  assert.ok(s.live && s.live.length > 0, `${label}: the live region announces the screen`);
  return s;
}

/** Text a person must never read: codes, ids, developer wording. */
function assertNoCodes(text, label) {
  assert.doesNotMatch(text, /[a-z]+_[a-z_]+/, `${label}: no snake_case code in "${text}"`);
  assert.doesNotMatch(text, /VLD[0-9a-f]{6}/, `${label}: no validation id`);
  assert.doesNotMatch(text, /\b(HTTP|JSON|SDK|API|failure_status|declined_reason)\b/, `${label}: no developer words`);
}

/** Walks intro → recording, checking each screen; `prefix` labels screens (axe log, shots). */
async function walkChecked(page, prefix, { root = '#truora', document = true } = {}) {
  await atStep(page, 'intro', root);
  await checkScreen(page, `${prefix} intro`, { root, focus: false });
  await shot(page.locator(root), `${prefix}-intro`);
  await page.click(`${root} [data-testid=start]`);
  if (document) {
    await atStep(page, 'document', root);
    await checkScreen(page, `${prefix} document`, { root });
    await page.fill(`${root} [data-testid=document-input]`, '1.020.304.050');
    await page.click(`${root} [data-testid=document-submit]`);
  }
  await atStep(page, 'consent', root);
  await checkScreen(page, `${prefix} consent`, { root });
  await page.click(`${root} [data-testid=consent-accept]`);
  await atStep(page, 'geolocation', root);
  await checkScreen(page, `${prefix} geolocation`, { root });
  await page.click(`${root} [data-testid=geolocation-allow]`);
  await atStep(page, 'liveness', root);
  await checkScreen(page, `${prefix} liveness`, { root });
  await page.click(`${root} [data-testid=record]`);
  await atStep(page, 'recording', root);
  await checkScreen(page, `${prefix} recording`, { root });
}

module.exports = { createValidation, checkScreen, assertNoCodes, walkChecked, api };
