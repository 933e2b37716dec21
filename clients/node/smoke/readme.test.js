// truora.test.js: npm install --save-dev truidentidad-mock, then node --test
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMock } from 'truidentidad-mock';

test('an armed decline shows once time moves', async () => {
  const mock = await startMock();
  const call = async (path, form) => (await fetch(mock.url + path, {
    method: form ? 'POST' : 'GET',
    headers: { 'Truora-API-Key': mock.apiKey },
    body: form && new URLSearchParams(form),
  })).json();
  try {
    await mock.arm('declined-face-mismatch');
    const { validation_id: id } = await call('/v1/validations', { type: 'government', account_id: 'user-1' });
    assert.equal((await call(`/v1/validations/${id}`)).validation_status, 'pending');
    await mock.advance(60);
    const done = await call(`/v1/validations/${id}`);
    assert.equal(done.validation_status, 'failure');
    assert.equal(done.declined_reason, 'similarity_threshold_not_passed');
  } finally {
    await mock.stop();
  }
});
