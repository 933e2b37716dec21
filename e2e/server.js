// A mock server of a test's own, for what the shared one cannot show: another `serve` flag
// (`--admin-token`) or a store with exactly the validations the test made.
'use strict';
const path = require('node:path');
const { spawn } = require('node:child_process');

const BIN = process.env.MOCK_BIN ||
  path.join(process.env.CARGO_TARGET_DIR || path.join(__dirname, '..', 'target'), 'debug', 'truidentidad-mock');

/** Starts `truidentidad-mock serve --port 0 …args`; resolves to { url, stop() }. */
function startServer(args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['serve', '--port', '0', '--no-request-log', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { child.kill(); reject(new Error(`the mock did not start in 10 s: ${err}`)); }, 10_000);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          stop: () => new Promise((done) => { child.once('exit', done); child.kill(); }),
        });
      }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the mock exited (${code}): ${err}`)); });
  });
}

/** Creates `n` validations with `POST /v1/validations`, `account_id` from `account(i)`. */
async function createMany(url, n, account = (i) => `success.user${i}`) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const r = await fetch(url + '/v1/validations', {
      method: 'POST',
      headers: { 'Truora-API-Key': 'e2e-key', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ type: 'government', account_id: account(i), timeout: '300' }),
    });
    ids.push((await r.json()).validation_id);
  }
  return ids;
}

module.exports = { startServer, createMany };
