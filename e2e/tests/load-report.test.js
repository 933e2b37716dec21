// `load run --html FILE`: the report a performance team attaches to a ticket. Opened from
// disk as a mail attachment would be: it must fetch nothing, raise no console error, show
// its charts with their table alternatives, and pass axe-core (0 serious or critical).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { ARTIFACTS, DESKTOP, launch, axeCheck } = require('../lib');
const { startServer } = require('../server');

const DOCS_SHOT = path.join(__dirname, '..', '..', 'docs', 'screenshots', 'load-report.png');

let browser;
let dir;
let file;
let mock; // throttled to 30 requests/s, so the chart stacks 429s on the 2xx
before(async () => {
  browser = await launch();
  mock = await startServer(['--rate-limit', '30/s']);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'load-report-'));
  file = path.join(dir, 'load.html');
  // A short run with every outcome the mix names: its expired-not-finished validations
  // outlive the 4 s deadline (counted as deadline), and one threshold fails (exit code 99).
  try {
    execFileSync(process.env.MOCK_BIN, [
      'load', 'run', '--target', mock.url, '--rate', '20', '--duration', '3s', '--poll-deadline', '4s',
      '--mix', 'success=80,declined-face-mismatch=15,expired-not-finished=5', '--seed', '7',
      '--quiet', '--html', file, '--threshold', 'errors.rate<1%', '--threshold', 'poll.p99<1us',
    ], { stdio: 'pipe', timeout: 60_000 });
  } catch (e) {
    if (e.status !== 99) throw e;
  }
});
after(async () => {
  await browser?.close();
  await mock?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the HTML report opens offline with its charts, tables and thresholds', async () => {
  const size = fs.statSync(file).size;
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  const requests = [];
  const errors = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  const url = 'file://' + file;
  await page.goto(url);
  assert.deepEqual(requests.filter((r) => r !== url), [], 'nothing but the file itself is fetched');
  assert.deepEqual(errors, []);
  const headings = await page.locator('h2').allTextContents();
  for (const h of ['Requests per second, by answer', 'Latency per second (p50, p90, p99)',
    'Time to terminal (ms)', 'Polls per validation', 'Outcomes', 'Thresholds', 'The run']) {
    assert.ok(headings.includes(h), `${h} in ${headings}`);
  }
  // Every chart is an image with a name, and the rate chart has a bar per answer.
  const charts = page.locator('svg[role="img"]');
  assert.ok((await charts.count()) >= 6, 'the charts are drawn');
  for (const svg of await charts.all()) {
    assert.ok((await svg.locator('title').first().textContent()).length > 0);
  }
  assert.ok((await page.locator('#h-rate ~ figure rect').count()) > 3, 'bars in the rate chart');
  assert.ok((await page.locator('#h-rate ~ figure rect[fill="#b34700"]').count()) > 0, '429s stacked');
  assert.match(await page.locator('#h-outcomes ~ table').textContent(), /deadline/);
  assert.match(await page.locator('#h-thresholds ~ table').textContent(), /FAIL/);
  await axeCheck(page, 'load HTML report');
  await page.screenshot({ path: path.join(ARTIFACTS, 'load-report.png'), fullPage: false });
  fs.copyFileSync(path.join(ARTIFACTS, 'load-report.png'), DOCS_SHOT);
  // For the record (BENCHMARKS.md quotes it): a page of a few tens of KiB.
  console.log(`load-report.html: ${size} bytes, ${await charts.count()} charts`);
  await context.close();
});
