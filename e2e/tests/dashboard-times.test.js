// The detail's "Received (s after create)" column counts from the validation's create, not
// from the server's start: on a server up for 17 minutes, a fresh validation's create reads
// 0.000 and a poll 2.5 s later reads 2.500 (the manual clock makes both exact).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launch, DESKTOP } = require('../lib');
const { startServer, createMany } = require('../server');

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

test('a fresh validation\'s requests read seconds after its create', async () => {
  const advance = (s) => fetch(`${server.url}/_mock/clock/advance?seconds=${s}`, { method: 'POST' });
  await advance(1040);
  const [id] = await createMany(server.url, 1, () => 'success.fresh');
  await advance(2.5);
  await fetch(`${server.url}/v1/validations/${id}`, { headers: { 'Truora-API-Key': 'e2e-key' } });

  const context = await browser.newContext({ baseURL: server.url, viewport: DESKTOP });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto('/dashboard');
  await page.click(`[data-testid=rows] tr[data-validation-id="${id}"] [data-testid=open-row]`);
  await page.waitForSelector('[data-testid=requests] tbody tr');
  assert.match(await page.textContent('[data-testid=requests] thead'), /Received \(s after create\)/);
  const rows = await page.$$eval('[data-testid=requests] tbody tr', (trs) => trs.map((tr) =>
    [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)));
  assert.deepEqual(rows, [
    ['0.000', 'POST', '/v1/validations'],
    ['2.500', 'GET', `/v1/validations/${id}`],
  ]);
  assert.ok(Number(rows[0][0]) < 1, `the create reads ${rows[0][0]} s`);
  await context.close();
});
