// The README's embed snippets, run as written from another origin: each ```html block of the
// "Browser side" section is served by a tiny page server on its own port (another origin than
// the mock), with the mock's URL and a real validation id put in, and must render the journey
// and fire its callback.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { BASE, launch, newPage, shot, atStep, api, axeCheck } = require('../lib');

const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The ```html blocks of the README section about the browser side. */
function snippets() {
  const start = README.indexOf('## Browser side');
  const end = README.indexOf('\n## ', start + 1);
  const section = README.slice(start, end);
  return [...section.matchAll(/```html\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** Serves one page at / on 127.0.0.1, port 0; resolves to its origin and a close function. */
function pageServer(html) {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      if (req.url !== '/') { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html);
    });
    server.listen(0, '127.0.0.1', () => resolve({
      // `localhost` rather than 127.0.0.1: another host as well as another port.
      origin: `http://localhost:${server.address().port}`,
      close: () => new Promise((r) => server.close(r)),
    }));
  });
}

/** A fragment becomes a page; a whole document is served as written. */
function asPage(snippet) {
  if (/<html[\s>]/i.test(snippet)) return snippet;
  return `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Integrator page</title></head>\n<body>\n<main>\n<h1>Integrator page</h1>\n${snippet}</main>\n</body>\n</html>\n`;
}

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the README shows the three embedding forms', () => {
  const found = snippets();
  assert.equal(found.length, 3, 'classic script, module + onload, module + inline stub');
  assert.match(found[0], /<script src="http:\/\/127\.0\.0\.1:8080\/truorasdk\.js"><\/script>/);
  assert.match(found[1], /type="module"[\s\S]*<body onload="loadSDK\(\)">/);
  assert.match(found[2], /type="module"[\s\S]*q: \[\][\s\S]*window\.TruoraSDK\.init\(/);
});

for (const [i, name] of ['classic-script', 'module-onload', 'module-inline-stub'].entries()) {
  test(`README embedding "${name}" runs from another origin and fires its callback`, { timeout: 60_000 }, async () => {
    const created = await api('POST', '/v1/validations', 'type=government&account_id=success.embed');
    assert.equal(created.status, 200);
    const id = created.body.validation_id;
    const html = asPage(snippets()[i].replaceAll('http://127.0.0.1:8080', BASE).replaceAll('VLD…', id));
    const site = await pageServer(html);
    const page = await newPage(browser);
    // Keep what the snippet logs: its callbacks print their result.
    await page.addInitScript(() => {
      window.logged = [];
      const log = console.log.bind(console);
      console.log = (...args) => { window.logged.push(args); log(...args); };
    });
    try {
      await page.goto(site.origin + '/');
      assert.notEqual(new URL(page.url()).origin, new URL(BASE).origin);
      await atStep(page, 'intro', '#app');
      await shot(page, `embed-${name}`);
      await axeCheck(page, `embed ${name}: intro`);
      // The stylesheet loaded cross-origin: the card is styled.
      assert.equal(await page.$eval('.truora-card', (e) => getComputedStyle(e).borderRadius), '14px');
      await page.click('[data-testid=cancel]');
      await atStep(page, 'result', '#app');
      const logged = await page.waitForFunction(() => window.logged.length && window.logged).then((h) => h.jsonValue());
      assert.deepEqual(logged, [[{ status: 'failed', validationID: id }]]);
      const backend = await api('GET', '/v1/validations/' + id);
      assert.equal(backend.body.declined_reason, 'canceled');
      assert.deepEqual(page.jsErrors, []);
    } finally {
      await page.context().close();
      await site.close();
    }
  });
}
