// Vitest globalSetup: one mock server for the whole run.
//
// vitest.config.js:
//   export default { test: { globalSetup: ['truidentidad-mock/vitest-global-setup'] } }
// In a test:
//   import { inject } from 'vitest';
//   const truoraUrl = inject('truidentidadMockUrl');   // also in process.env.TRUIDENTIDAD_MOCK_URL
//
// Jest's globalSetup/globalTeardown take the same two steps: call startMock() in the setup
// module, keep the handle on globalThis, set process.env.TRUIDENTIDAD_MOCK_URL, and call
// handle.stop() in the teardown module.
import { startMock } from '../index.js';

export default async function setup({ provide } = {}) {
  const mock = await startMock();
  process.env.TRUIDENTIDAD_MOCK_URL = mock.url;
  process.env.TRUIDENTIDAD_MOCK_API_KEY = mock.apiKey;
  if (provide) {
    provide('truidentidadMockUrl', mock.url);
    provide('truidentidadMockApiKey', mock.apiKey);
  }
  return async function teardown() {
    await mock.stop();
  };
}
