// The example backend against the mock: startMock() gives each test a fresh server.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startMock } from 'truidentidad-mock';
import { createApp } from '../app.js';
import { TruoraClient } from '../truora-client.js';

let mock;
let app;
let slept;

beforeEach(async () => {
  mock = await startMock();
  slept = [];
  const truora = new TruoraClient({ baseUrl: mock.url, apiKey: mock.apiKey, sleep: async (s) => { slept.push(s); } });
  const server = createApp(truora).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  app = { server, url: `http://127.0.0.1:${server.address().port}` };
});

afterEach(async () => {
  await new Promise((resolve) => app.server.close(resolve));
  await mock.stop();
});

async function start(userId) {
  const res = await fetch(`${app.url}/checks`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user_id: userId }),
  });
  assert.equal(res.status, 201);
  return (await res.json()).check_id;
}

async function state(checkId) {
  const res = await fetch(`${app.url}/checks/${checkId}`);
  assert.equal(res.status, 200);
  return res.json();
}

test('approved after Truora finishes', async () => {
  const check = await start('user-1');
  assert.equal((await state(check)).state, 'in_progress');
  await mock.advance(10);
  assert.equal((await state(check)).state, 'approved');
});

test('a declined user is told why', async () => {
  await mock.arm('declined-face-mismatch');
  const check = await start('user-2');
  await mock.advance(60);
  assert.deepEqual(await state(check), {
    check_id: check,
    state: 'rejected',
    reason: 'The selfie does not match the ID photo.',
  });
});

test('a forced outcome', async () => {
  const check = await start('user-3');
  await mock.complete(check, { status: 'failure', failure_status: 'declined', declined_reason: 'identity_belongs_to_dead_person' });
  assert.equal((await state(check)).reason, 'This ID belongs to a deceased person.');
});

test('outages are retried', async () => {
  const check = await start('flaky-5xx-then-success.user-4');
  assert.equal((await state(check)).state, 'in_progress');
  assert.equal(slept.length, 2);
  const polls = await mock.journal({ validationId: check, kind: 'poll' });
  assert.deepEqual(polls.map((p) => p.status), [503, 500, 200]);
});

test('a rate-limited create waits for Retry-After and goes through', async () => {
  const check = await start('create-rate-limited.user-5');
  assert.deepEqual(slept, [1]);
  const creates = await mock.journal({ kind: 'create' });
  assert.deepEqual(creates.map((c) => c.status), [429, 200]);
  assert.equal(creates[1].validation_id, check);
});
