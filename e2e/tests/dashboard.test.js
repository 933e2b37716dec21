// The dashboard as people use it: beside/over layout at 1280 and 390 px, selection kept across
// refreshes (304s, not redraws), partial search, paging, keyboard, the admin token kept in the
// tab and never in a URL, and the demo saying why its scenario list is empty.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { ARTIFACTS, DESKTOP, PHONE, launch, axeCheck } = require('../lib');
const { startServer, createMany } = require('../server');

const DOCS_SHOT = path.join(__dirname, '..', '..', 'docs', 'screenshots', 'dashboard.png');
const TOKEN = 'e2e-s3cret';

let browser;
let plain; // a server of our own: exactly the validations made here
let guarded; // started with --admin-token
let ids;
before(async () => {
  browser = await launch();
  plain = await startServer();
  guarded = await startServer(['--admin-token', TOKEN]);
  // 230 finished validations: more than one page, and more than the old 200-row cap.
  ids = await createMany(plain.url, 230, (i) => `success.user${String(i).padStart(3, '0')}`);
  for (let i = 0; i < 50; i++) {
    const r = await (await fetch(plain.url + '/dashboard/api/validations?status=pending&limit=1')).json();
    if (r.matched === 0) break;
    await new Promise((res) => setTimeout(res, 200));
  }
});
after(async () => {
  await browser?.close();
  await plain?.stop();
  await guarded?.stop();
});

async function open(server, { viewport = DESKTOP, mobile = false, query = '' } = {}) {
  const context = await browser.newContext({ baseURL: server.url, viewport, isMobile: mobile, hasTouch: mobile });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.jsErrors = [];
  page.on('pageerror', (e) => page.jsErrors.push(e));
  await page.goto('/dashboard' + query);
  return page;
}

async function rowsShown(page) {
  await page.waitForSelector('[data-testid=rows] tr[data-validation-id^=VLD]');
  return page.$$eval('[data-testid=rows] tr[data-validation-id^=VLD]', (trs) => trs.map((t) => t.dataset.validationId));
}

/** Waits until the page has checked for changes `n` more times. */
async function refreshes(page, n) {
  for (let i = 0; i < n; i++) {
    const before = await page.textContent('[data-testid=checked]');
    await page.waitForFunction((b) => document.querySelector('[data-testid=checked]').textContent !== b, before, { timeout: 6000 });
  }
}

test('desktop 1280 px: the detail opens beside the list, in view, times labelled UTC', async () => {
  const page = await open(plain);
  await rowsShown(page);
  await axeCheck(page, 'dashboard list (desktop)');
  assert.match(await page.textContent('thead'), /Created UTC/);
  await page.click('[data-testid=rows] tr:nth-child(2) [data-testid=open-row]');
  await page.waitForSelector('[data-testid=detail-status]');
  const list = await page.locator('.list').boundingBox();
  const detail = await page.locator('[data-testid=detail]').boundingBox();
  assert.ok(detail.x >= list.x + list.width, `detail at x=${detail.x} is beside the list (ends ${list.x + list.width})`);
  assert.ok(detail.y < DESKTOP.height / 2, `detail starts in view (y=${detail.y})`);
  assert.equal(await page.textContent('[data-testid=detail-title]'), ids[ids.length - 2]);
  assert.match(await page.textContent('[data-testid=detail]'), /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
  assert.equal(await page.textContent('[data-testid=detail-journey]'), 'not opened');
  assert.ok(!page.url().includes('admin_token'));
  await axeCheck(page, 'dashboard detail (desktop)');
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png') });
  fs.mkdirSync(path.dirname(DOCS_SHOT), { recursive: true });
  fs.copyFileSync(path.join(ARTIFACTS, 'dashboard.png'), DOCS_SHOT);
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

test('phone 390 px: cards without sideways scrolling, the detail is a sheet over the list', async () => {
  const page = await open(plain, { viewport: PHONE, mobile: true });
  await rowsShown(page);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `page is ${width} px wide`);
  const table = await page.locator('[data-testid=table]').boundingBox();
  assert.ok(table.width <= PHONE.width, `list is ${table.width} px wide`);
  await axeCheck(page, 'dashboard list (phone)');
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-phone-list.png') });

  const button = page.locator('[data-testid=rows] tr:first-child [data-testid=open-row]');
  await button.click();
  await page.waitForSelector('[data-testid=detail-status]');
  const sheet = await page.locator('[data-testid=detail]').boundingBox();
  assert.deepEqual([sheet.x, sheet.y, sheet.width], [0, 0, PHONE.width], 'the sheet covers the screen');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'detail-title', 'focus moves to the sheet');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= PHONE.width);
  await axeCheck(page, 'dashboard detail (phone)');
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-phone-detail.png') });
  await page.click('[data-testid=close-detail]');
  assert.equal(await page.isHidden('[data-testid=detail]'), true);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'open-row', 'focus goes back to the row');
  await page.context().close();
});

test('an idle dashboard of 200 validations keeps selections and costs only 304s', async () => {
  const page = await open(plain);
  await rowsShown(page);
  await page.click('[data-testid=rows] tr:nth-child(3) [data-testid=open-row]');
  await page.waitForSelector('[data-testid=detail-status]');
  // Select text in a row and mark the nodes: a redraw would drop both.
  await page.evaluate(() => {
    const cell = document.querySelector('[data-testid=rows] tr:nth-child(5) .c-account');
    cell.marked = true;
    const r = document.createRange();
    r.selectNodeContents(cell);
    getSelection().removeAllRanges();
    getSelection().addRange(r);
    document.getElementById('detail-body').marked = true;
  });
  const selectedText = await page.evaluate(() => String(getSelection()));
  assert.match(selectedText, /^success\.user\d{3}$/);

  const sizes = [];
  page.on('requestfinished', async (req) => {
    // The list and the detail; the traffic chart moves on every second while the 230
    // creates above are in its 2-minute window (idle, it is a 304 too: its own test).
    if (!req.url().includes('/dashboard/api/validations')) return;
    const s = await req.sizes();
    const r = await req.response();
    sizes.push({ url: req.url().replace(/^https?:\/\/[^/]+/, ''), status: r.status(), bytes: s.responseHeadersSize + s.responseBodySize, sent: s.requestHeadersSize });
  });
  await refreshes(page, 3);
  assert.equal(await page.evaluate(() => String(getSelection())), selectedText, 'the text selection survives');
  assert.equal(await page.evaluate(() => document.querySelector('[data-testid=rows] tr:nth-child(5) .c-account').marked), true, 'the row was not redrawn');
  assert.equal(await page.getAttribute('[data-testid=rows] tr:nth-child(3)', 'class'), 'sel', 'the selected row stays selected');
  assert.equal(await page.isVisible('[data-testid=detail]'), true);
  assert.equal(await page.evaluate(() => document.getElementById('detail-body').marked), true, 'the detail was not redrawn');

  await new Promise((res) => setTimeout(res, 300)); // let the last sizes() settle
  assert.ok(sizes.length >= 4, JSON.stringify(sizes));
  assert.ok(sizes.every((s) => s.status === 304), JSON.stringify(sizes));
  // One refresh is a list check plus a detail check.
  const perRefresh = sizes.reduce((a, s) => a + s.bytes, 0) / (sizes.length / 2);
  const sentPerRefresh = sizes.reduce((a, s) => a + s.sent, 0) / (sizes.length / 2);
  fs.writeFileSync(path.join(ARTIFACTS, 'dashboard-bytes.json'), JSON.stringify({ perRefresh, sentPerRefresh, requests: sizes }, null, 2));
  console.log(`# dashboard: ${Math.round(perRefresh)} bytes received per idle refresh (list + detail, 304s; ${Math.round(sentPerRefresh)} sent)`);
  assert.ok(perRefresh < 1000, `${perRefresh} bytes per refresh`);

  // With 200 rows on one page the full 200 answer is gzipped (it used to be ~71 KB plain).
  const full = await page.evaluate(async () => {
    const r = await fetch('/dashboard/api/validations?limit=200', { cache: 'no-store' });
    return { enc: r.headers.get('content-encoding'), count: (await r.json()).count };
  });
  assert.deepEqual(full, { enc: 'gzip', count: 200 });
  await page.context().close();
});

test('search by part of an id or account; a search with no match clears the detail', async () => {
  const page = await open(plain);
  await rowsShown(page);
  const target = ids[17];
  await page.fill('#f-validation_id', target.slice(9, 19).toUpperCase());
  await page.click('.filters button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=rows] tr[data-validation-id^=VLD]').length === 1);
  assert.deepEqual(await rowsShown(page), [target]);
  await page.click('[data-testid=open-row]');
  await page.waitForSelector('[data-testid=detail-status]');

  await page.fill('#f-validation_id', '');
  await page.fill('#f-account_id', 'USER01');
  await page.click('.filters button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=rows] tr[data-validation-id^=VLD]').length === 10);
  assert.match(await page.textContent('[data-testid=meta]'), /^10 matching of 230/);

  await page.fill('#f-account_id', 'nobody-has-this');
  await page.click('.filters button[type=submit]');
  await page.waitForSelector('td.empty');
  assert.equal(await page.textContent('td.empty'), 'No validations match.');
  assert.equal(await page.isHidden('[data-testid=detail]'), true, 'the old detail is gone');
  assert.ok(!page.url().includes('open='), page.url());
  await page.context().close();
});

test('paging goes past 200 rows with labelled buttons', async () => {
  const page = await open(plain);
  await rowsShown(page);
  assert.equal(await page.getAttribute('[data-testid=pager]', 'aria-label'), 'Result pages');
  assert.equal(await page.isDisabled('[data-testid=newer]'), true);
  assert.equal(await page.textContent('[data-testid=page-info]'), 'Showing 1–50 of 230');
  for (let i = 0; i < 4; i++) {
    const info = await page.textContent('[data-testid=page-info]');
    await page.click('[data-testid=older]');
    await page.waitForFunction((b) => document.querySelector('[data-testid=page-info]').textContent !== b, info);
  }
  assert.equal(await page.textContent('[data-testid=page-info]'), 'Showing 201–230 of 230');
  assert.equal(await page.isDisabled('[data-testid=older]'), true);
  const shown = await rowsShown(page);
  assert.deepEqual(shown, ids.slice(0, 30).reverse(), 'the oldest 30, newest first');
  assert.match(page.url(), /offset=200/);
  await page.context().close();
});

test('keyboard: Tab reaches the rows, Enter opens, Escape closes, focus is visible', async () => {
  const page = await open(plain);
  await rowsShown(page);
  let focused = null;
  for (let i = 0; i < 15 && focused !== 'open-row'; i++) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement.dataset.testid);
  }
  assert.equal(focused, 'open-row', 'a row is reached with Tab');
  const ring = await page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
  });
  assert.ok(ring.style !== 'none' && ring.width >= 2, JSON.stringify(ring));
  const id = await page.evaluate(() => document.activeElement.textContent);
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid=detail-status]');
  assert.equal(await page.textContent('[data-testid=detail-title]'), id);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'detail-title');
  await page.keyboard.press('Escape');
  assert.equal(await page.isHidden('[data-testid=detail]'), true);
  assert.equal(await page.evaluate(() => document.activeElement.textContent), id, 'focus returns to the row');
  await page.context().close();
});

test('admin token: asked once, kept in sessionStorage, sent as a header, never in a URL', async () => {
  await createMany(guarded.url, 3);
  const page = await open(guarded);
  const urls = [];
  const tokenHeaders = [];
  page.on('request', (r) => {
    urls.push(r.url());
    if (r.url().includes('/dashboard/api/')) tokenHeaders.push(r.headers()['x-mock-admin-token'] || null);
  });
  await page.waitForSelector('[data-testid=admin-token-form]');
  assert.match(await page.textContent('#token-box'), /needs the admin token/);
  await axeCheck(page, 'dashboard asking for the admin token');

  await page.fill('[data-testid=admin-token-form] input', 'wrong');
  await page.click('[data-testid=admin-token-form] button');
  await page.waitForSelector('[data-testid=admin-token-form]');
  assert.match(await page.textContent('#token-box'), /wrong/);

  await page.fill('[data-testid=admin-token-form] input', TOKEN);
  await page.click('[data-testid=admin-token-form] button');
  assert.equal((await rowsShown(page)).length, 3);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('truidentidad-mock.admin-token')), TOKEN);

  await page.reload();
  assert.equal((await rowsShown(page)).length, 3, 'not asked again in this tab');
  assert.equal(await page.isHidden('#token-box'), true);
  assert.ok(tokenHeaders.includes(TOKEN));
  for (const u of [...urls, page.url()]) assert.ok(!u.includes(TOKEN), `token in ${u}`);

  // An old bookmark with ?admin_token= still works, and the token leaves the address bar.
  const old = await open(guarded, { query: `?admin_token=${TOKEN}` });
  assert.equal((await rowsShown(old)).length, 3);
  assert.ok(!old.url().includes('admin_token'), old.url());
  await old.context().close();
  await page.context().close();
});

test('demo: the scenario list says why it is empty without the token, and fills once given', async () => {
  const context = await browser.newContext({ baseURL: guarded.url, viewport: DESKTOP });
  const page = await context.newPage();
  await page.goto('/demo');
  await page.waitForSelector('body[data-ready="true"]');
  const msg = page.locator('[data-testid=scenario-msg]');
  assert.equal(await msg.isVisible(), true);
  assert.match(await msg.textContent(), /admin token/);
  assert.equal(await page.$$eval('#scenario option', (o) => o.length), 1);
  await axeCheck(page, 'demo without the admin token');

  await page.fill('[data-testid=admin-token-form] input', TOKEN);
  await page.click('[data-testid=admin-token-form] button');
  await page.waitForFunction(() => document.querySelectorAll('#scenario option').length > 5);
  assert.equal(await msg.isHidden(), true);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('truidentidad-mock.admin-token')), TOKEN);
  await context.close();

  // Without --admin-token the list loads at once and no message shows.
  const open2 = await browser.newContext({ baseURL: plain.url, viewport: PHONE, isMobile: true });
  const demo = await open2.newPage();
  await demo.goto('/demo');
  await demo.waitForSelector('body[data-ready="true"]');
  assert.equal(await demo.isHidden('[data-testid=scenario-msg]'), true);
  assert.ok(await demo.$$eval('#scenario option', (o) => o.length) > 5);
  await axeCheck(demo, 'demo (phone)');
  await open2.close();
});

test('the live chart shows API requests per second, the 429s among them, and hides when idle', async () => {
  const throttled = await startServer(['--rate-limit', '3/s']);
  try {
    const page = await open(throttled);
    // Nothing yet: no chart.
    await refreshes(page, 1);
    assert.equal(await page.isHidden('[data-testid=traffic]'), true);
    // A burst of 12 creates against 3 requests/s: some are answered 429.
    const statuses = [];
    for (let i = 0; i < 12; i++) {
      const r = await fetch(throttled.url + '/v1/validations', {
        method: 'POST',
        headers: { 'Truora-API-Key': 'e2e-key', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ type: 'government', account_id: `burst${i}` }),
      });
      statuses.push(r.status);
    }
    const refused = statuses.filter((s) => s === 429).length;
    assert.ok(refused > 0, `the rate limit bit: ${statuses}`);
    // The chart counts whole seconds that are over: wait for the burst's to end.
    await page.waitForFunction((n) => {
      const s = document.querySelector('[data-testid=traffic-summary]');
      return s && !document.querySelector('[data-testid=traffic]').hidden && s.textContent.includes(`${n} requests`);
    }, 12, { timeout: 10_000 });
    const summary = await page.textContent('[data-testid=traffic-summary]');
    assert.match(summary, new RegExp(`12 requests, ${refused} answered 429, 0 5xx or dropped`));
    const bars = await page.$$eval('[data-testid=traffic-chart] rect', (rs) => rs.map((r) => r.getAttribute('class')));
    assert.ok(bars.includes('b-ok') && bars.includes('b-throttled'), JSON.stringify(bars));
    await axeCheck(page, 'dashboard with the traffic chart');
    assert.deepEqual(page.jsErrors, []);
    await page.context().close();
  } finally {
    await throttled.stop();
  }
});
