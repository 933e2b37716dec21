import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMock } from 'truidentidad-mock';
import { TruoraClient } from '../truora-client.js';

test('a declined validation reads as declined', async () => {
  const mock = await startMock();
  try {
    const truora = new TruoraClient({ baseUrl: mock.url, apiKey: mock.apiKey });
    await mock.arm('declined-face-mismatch');
    const id = await truora.create('user-1');
    await mock.advance(60);
    assert.equal((await truora.get(id)).declinedReason, 'similarity_threshold_not_passed');
  } finally {
    await mock.stop();
  }
});
