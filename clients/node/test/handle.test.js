// The client against the real binary ($TRUIDENTIDAD_MOCK_BIN or PATH), and the Vitest
// globalSetup recipe run under node --test with a two-line stand-in for Vitest's `provide`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, MockError, MockServer, MockHandle, VERSION, findBinary } from '../index.js';
import setup from '../recipes/vitest.global-setup.js';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

async function create(mock, accountId) {
  const res = await fetch(`${mock.url}/v1/validations`, {
    method: 'POST',
    headers: { 'Truora-API-Key': mock.apiKey },
    body: new URLSearchParams({ type: 'government', account_id: accountId }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).validation_id;
}

test('every handle method maps to its control endpoint', async () => {
  const mock = await startMock();
  try {
    const id = await create(mock, 'declined-deceased.u1');
    assert.equal((await mock.advance(60)).now_seconds, 60);
    assert.equal((await mock.validation(id)).failure_status, 'declined');

    const other = await create(mock, 'u2');
    const done = await mock.complete(other, { status: 'failure', failure_status: 'expired' });
    assert.equal(done.failure_status, 'expired');
    await assert.rejects(mock.complete(other), (e) => e instanceof MockError && e.status === 409);

    assert.deepEqual(await mock.arm('never-completes', 2), { armed: 2, scenario: 'never-completes' });
    const armed = await create(mock, 'u3');
    assert.equal((await mock.validation(armed)).scenario, 'never-completes');

    const creates = await mock.journal({ kind: 'create' });
    assert.deepEqual(creates.map((e) => e.validation_id), [id, other, armed]);
    assert.match(await mock.metrics(), /truidentidad_mock_requests_total\{kind="create",status="200"\} 3/);

    await mock.reset();
    await assert.rejects(mock.validation(id), (e) => e.status === 404);
  } finally {
    await mock.stop();
  }
});

test('a missing binary says what to install', async () => {
  await assert.rejects(startMock({ binary: '/nonexistent/truidentidad-mock' }), /set TRUIDENTIDAD_MOCK_BIN/);
});

test('a bad flag reports the server message', async () => {
  await assert.rejects(startMock({ args: ['--no-such-flag'] }), /did not start[\s\S]*--no-such-flag/);
});

test('the admin token is sent on control calls', async () => {
  const mock = await startMock({ adminToken: 't0ken' });
  try {
    assert.equal((await mock.advance(1)).now_seconds, 1);
  } finally {
    await mock.stop();
  }
});

test('the Vitest globalSetup recipe provides the URL and stops the server', async () => {
  const provided = {};
  const teardown = await setup({ provide: (k, v) => { provided[k] = v; } });
  assert.match(provided.truidentidadMockUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(process.env.TRUIDENTIDAD_MOCK_URL, provided.truidentidadMockUrl);
  const health = await fetch(`${provided.truidentidadMockUrl}/_mock/health`);
  assert.equal(health.status, 200);
  await teardown();
  await assert.rejects(fetch(`${provided.truidentidadMockUrl}/_mock/health`));
});

test('a server never stopped neither keeps Node running nor outlives it', { timeout: 20000 }, async () => {
  // A test that throws before stop(): here, a script that starts a server and just ends.
  const script = `import { startMock } from ${JSON.stringify(new URL('../index.js', import.meta.url).href)};
const mock = await startMock();
console.log(mock.url);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const code = await new Promise((resolve) => child.once('close', resolve));
  assert.equal(code, 0);
  const url = out.trim();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  await assert.rejects(fetch(`${url}/_mock/health`), 'the server went with the script');
});

test('the handle is a MockServer, and MockHandle still names it', async () => {
  assert.equal(MockHandle, MockServer);
  const mock = await startMock();
  try {
    assert.ok(mock instanceof MockServer);
  } finally {
    await mock.stop();
  }
});

test('a binary of another version is refused with what to do', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tim-version-'));
  const binary = path.join(dir, 'truidentidad-mock');
  fs.writeFileSync(binary, "#!/bin/sh\necho 'truidentidad-mock 9.9.9 (commit 0123456789ab)'\n", { mode: 0o755 });
  const skip = process.env.TRUIDENTIDAD_MOCK_SKIP_VERSION_CHECK;
  delete process.env.TRUIDENTIDAD_MOCK_SKIP_VERSION_CHECK;
  try {
    await assert.rejects(startMock({ binary }), (e) => {
      assert.ok(e instanceof MockError);
      assert.equal(e.message, `${binary} is truidentidad-mock 9.9.9 (commit 0123456789ab), but the truidentidad-mock npm package is ${VERSION}; the two must match. Either install the matching package (npm install --save-dev truidentidad-mock@9.9.9), or use the binary this package brings (npm install --save-dev truidentidad-mock@${VERSION}, and unset TRUIDENTIDAD_MOCK_BIN if it points at another build). To start it anyway, set TRUIDENTIDAD_MOCK_SKIP_VERSION_CHECK=1.`);
      return true;
    });
  } finally {
    if (skip !== undefined) process.env.TRUIDENTIDAD_MOCK_SKIP_VERSION_CHECK = skip;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the binary found reports this package\'s version', () => {
  const printed = execFileSync(findBinary(), ['--version'], { encoding: 'utf8' });
  assert.match(printed, new RegExp(`^truidentidad-mock ${VERSION.replaceAll('.', '\\.')} \\(commit ([0-9a-f]{12}|unknown)\\)\n$`));
});

test('TRUIDENTIDAD_MOCK_BIN wins over the platform package and PATH', () => {
  const before = process.env.TRUIDENTIDAD_MOCK_BIN;
  process.env.TRUIDENTIDAD_MOCK_BIN = '/opt/elsewhere/truidentidad-mock';
  try {
    assert.equal(findBinary(), '/opt/elsewhere/truidentidad-mock');
  } finally {
    if (before === undefined) delete process.env.TRUIDENTIDAD_MOCK_BIN;
    else process.env.TRUIDENTIDAD_MOCK_BIN = before;
  }
});
