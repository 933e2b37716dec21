// Every row of the README's test-identity table through the browser journey: the number is
// typed on the document screen (with dots, as a person would) and the validation ends as the
// row says, in the SDK and for the backend's poll. Rows whose ending is the person's are
// walked as their "In the journey" column says. The same rows through the API:
// mock-server/tests/identities.rs. A server of its own with a manual clock, so the slow and
// expiring rows take no real time.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { PHONE, launch } = require('../lib');
const { startServer } = require('../server');

const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
/** The table's rows: { number, outcome, scenario, journey }. */
const ROWS = README.split('\n').filter((l) => l.startsWith('| `99')).map((l) => {
  const [number, outcome, scenario, journey] = l.split('|').slice(1, 5).map((c) => c.trim().replace(/`/g, ''));
  return { number, outcome, scenario, journey };
});

let browser;
let server;
before(async () => {
  browser = await launch();
  server = await startServer(['--clock', 'manual']);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function call(method, p, form) {
  const r = await fetch(server.url + p, {
    method,
    headers: { 'Truora-API-Key': 'e2e-key', 'Content-Type': 'application/x-www-form-urlencoded', 'X-Mock-Await-Person': 'true' },
    body: form && new URLSearchParams(form),
  });
  return r.json();
}

const advance = (seconds) => call('POST', `/_mock/clock/advance?seconds=${seconds}`);

/** The poll's ending in the words of the table's Outcome column. */
function words(v) {
  if (v.validation_status === 'success') return 'success';
  if (v.validation_status !== 'failure') return v.validation_status;
  if (v.failure_status === 'declined') return `declined: ${v.declined_reason}`;
  if (v.failure_status === 'expired') return `expired: ${v.expired_reason}`;
  return `failure: ${v.failure_status}`;
}

/** How the person goes on after typing the number, by what the row's journey column says. */
function walker(row) {
  if (/deny the location/.test(row.journey)) return 'deny-location';
  if (/No acepto/.test(row.journey)) return 'decline-policy';
  if (/expires at the validation's timeout/.test(row.journey)) return 'wait-for-expiry';
  if (/60 s of scenario time after the video/.test(row.journey)) return 'record-then-wait-60s';
  assert.equal(row.journey, '', `a walker for the journey note "${row.journey}"`);
  return 'record';
}

test('the README lists every identity the journey walks', () => {
  assert.equal(ROWS.length, 12);
  for (const row of ROWS) assert.match(row.number, /^99\d{8}$/);
});

test('every test identity, typed in the journey, ends as the README says', { timeout: 300_000 }, async () => {
  for (const row of ROWS) {
    const how = walker(row);
    const created = await call('POST', '/v1/validations', { type: 'government', account_id: 'tester', timeout: '120' });
    const id = created.validation_id;
    const context = await browser.newContext({
      baseURL: server.url, viewport: PHONE, isMobile: true, hasTouch: true,
      geolocation: { latitude: 4.6097, longitude: -74.0817 },
      permissions: how === 'deny-location' ? ['camera'] : ['geolocation', 'camera'],
    });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const at = (step) => page.waitForSelector(`#app[data-truora-step="${step}"]`);
    await page.goto(`/journey/${id}?lang=es`);
    await at('intro');
    await page.click('[data-testid=start]');
    await at('document');
    const n = row.number;
    await page.fill('[data-testid=document-input]', `${n.slice(0, 1)}.${n.slice(1, 4)}.${n.slice(4, 7)}.${n.slice(7)}`);
    await page.click('[data-testid=document-submit]');
    await at('consent');
    const detail = await call('GET', `/_mock/validations/${id}`);
    assert.equal(detail.scenario, row.scenario, `${n} selects ${row.scenario}`);
    if (how === 'decline-policy') {
      await page.click('[data-testid=consent-decline]');
    } else if (how === 'wait-for-expiry') {
      await advance(121);
    } else {
      await page.click('[data-testid=consent-accept]');
      await at('geolocation');
      await page.click('[data-testid=geolocation-allow]');
      if (how !== 'deny-location') {
        await at('liveness');
        await page.click('[data-testid=record]');
        await at('processing');
        if (how === 'record-then-wait-60s') {
          await advance(59);
          assert.equal((await call('GET', `/v1/validations/${id}`)).validation_status, 'pending', `${n} at 59 s`);
          await advance(2);
        } else {
          await advance(4);
        }
      }
    }
    await at('result');
    const poll = await call('GET', `/v1/validations/${id}`);
    assert.ok(row.outcome.startsWith(words(poll)), `${n}: ${words(poll)} vs ${row.outcome}`);
    const shown = await page.getAttribute('[data-testid=result-title]', 'data-result');
    assert.equal(shown, row.outcome === 'success' || row.outcome.startsWith('success') ? 'succeeded'
      : row.outcome.startsWith('expired') ? 'expired' : 'failed', n);
    await context.close();
  }
});
