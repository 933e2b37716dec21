// The WebView host page (/sdk/webview) on a phone profile: each native bridge an app can offer
// (iOS script message handler, Android @JavascriptInterface object, Flutter channels, React
// Native, an iframe's parent) is injected by an init script, as the app would before the page
// loads, and the messages it receives are checked, in order, for success, decline, expiry and
// cancel (the back button). Messages are decoded as Truora's iOS wrapper decodes them.
// A server of its own with a manual clock: expiry and the outcome come when the test says.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { devices } = require('playwright-core');
const { launch, axeCheck, shot } = require('../lib');
const { startServer } = require('../server');

const BOGOTA = { latitude: 4.6097, longitude: -74.0817 };
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

/** Each bridge: the phone it runs on and the init script that installs it, recording every
 * message in window.__sent. `frame`: the page runs in an iframe and the parent records. */
const BRIDGES = {
  ios: {
    device: 'iPhone 13',
    init: () => {
      window.__sent = [];
      window.webkit = { messageHandlers: { callbackHandler: { postMessage: (m) => window.__sent.push(m) } } };
    },
  },
  android: {
    device: 'Pixel 7',
    // addJavascriptInterface(object, "callbackHandler"); its @JavascriptInterface postMessage(String).
    init: () => {
      window.__sent = [];
      window.callbackHandler = { postMessage: (m) => window.__sent.push(String(m)) };
    },
  },
  'flutter-channel': {
    device: 'Pixel 7',
    // webview_flutter's JavaScriptChannel("callbackHandler"): the same shape, its own object.
    init: () => {
      window.__sent = [];
      Object.defineProperty(window, 'callbackHandler', { value: Object.freeze({ postMessage: (m) => window.__sent.push(m) }) });
    },
  },
  'flutter-inappwebview': {
    device: 'Pixel 7',
    init: () => {
      window.__sent = [];
      window.flutter_inappwebview = { callHandler: (name, m) => { window.__sent.push(`${name}|${m}`); return Promise.resolve(); } };
    },
    unwrap: (m) => { const [name, rest] = m.split(/\|(.*)/s); assert.equal(name, 'callbackHandler'); return rest; },
  },
  'react-native': {
    device: 'Pixel 7',
    init: () => {
      window.__sent = [];
      window.ReactNativeWebView = { postMessage: (m) => window.__sent.push(m) };
    },
  },
  iframe: { device: 'Pixel 7', frame: true },
};

/** Decodes a message as the iOS wrapper's native code does: split on the prefix, decode the
 * rest as {status, validationID} (a Swift Codable struct: exactly those keys). */
function decodeLikeWrapper(message) {
  for (const [prefix, callback] of [['onComplete:', 'onComplete'], ['onExpired:', 'onExpired']]) {
    const parts = message.split(prefix);
    if (parts.length === 2 && parts[0] === '') {
      const result = JSON.parse(parts[1]);
      assert.deepEqual(Object.keys(result).sort(), ['status', 'validationID'], message);
      assert.equal(typeof result.status, 'string');
      return { callback, status: result.status, validationID: result.validationID };
    }
  }
  throw new Error(`not a wrapper message: ${message}`);
}

async function create(form = {}) {
  const r = await fetch(server.url + '/v1/validations', {
    method: 'POST',
    headers: { 'Truora-API-Key': 'e2e-key', 'Content-Type': 'application/x-www-form-urlencoded', 'X-Mock-Await-Person': 'true' },
    body: new URLSearchParams({ type: 'government', account_id: 'webview-user', timeout: '120', ...form }),
  }).catch((e) => { throw new Error(`create: ${e} ${e.cause}`); });
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body));
  return body.validation_id;
}

async function advance(seconds) {
  const r = await fetch(`${server.url}/_mock/clock/advance?seconds=${seconds}`, { method: 'POST' });
  assert.equal(r.status, 200);
}

/** The hosted flow's handler on iOS (`&events=hosted`). */
const HOSTED = {
  device: 'iPhone 13',
  init: () => {
    window.__sent = [];
    window.webkit = { messageHandlers: { WebViewSDK: { postMessage: (m) => window.__sent.push(m) } } };
  },
};

/** Opens the host page for `id` through bridge `b`; returns { page, sdk, sent(n) }. */
async function open(b, id, query = '') {
  const context = await browser.newContext({
    ...devices[b.device], baseURL: server.url,
    geolocation: BOGOTA, permissions: ['geolocation', 'camera'],
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  const url = `${server.url}/sdk/webview?validation_id=${id}&lang=es${query}`;
  let sdk = page;
  if (b.frame) {
    await page.goto(server.url + '/_mock/health');
    await page.evaluate((src) => {
      window.__sent = [];
      window.addEventListener('message', (e) => window.__sent.push(e.data));
      document.body.innerHTML = '';
      const f = document.createElement('iframe');
      f.src = src;
      f.allow = 'camera; geolocation';
      f.style.cssText = 'border:0;width:100vw;height:100vh';
      document.body.appendChild(f);
    }, url);
    const handle = await page.waitForSelector('iframe');
    sdk = await handle.contentFrame();
    await sdk.waitForSelector('#app[data-truora-step]');
  } else {
    await page.addInitScript(b.init);
    await page.goto(url);
  }
  const sent = async (n) => {
    await page.waitForFunction((k) => window.__sent.length >= k, n);
    const raw = await page.evaluate(() => window.__sent);
    return b.unwrap ? raw.map(b.unwrap) : raw;
  };
  return { page, sdk, sent, errors, close: () => context.close() };
}

async function at(sdk, step) {
  await sdk.waitForSelector(`#app[data-truora-step="${step}"]`);
}

async function walkToConsent(sdk) {
  await at(sdk, 'intro');
  await sdk.click('[data-testid=start]');
  await at(sdk, 'document');
  await sdk.fill('[data-testid=document-input]', '1.020.304.050');
  await sdk.click('[data-testid=document-submit]');
  await at(sdk, 'consent');
}

/** The four endings, each with what the app must receive. */
const OUTCOMES = {
  success: {
    want: (id) => [{ callback: 'onComplete', status: 'succeeded', validationID: id }],
    async run(sdk) {
      await walkToConsent(sdk);
      await sdk.click('[data-testid=consent-accept]');
      await at(sdk, 'geolocation');
      await sdk.click('[data-testid=geolocation-allow]');
      await at(sdk, 'liveness');
      await sdk.click('[data-testid=record]');
      await at(sdk, 'recording');
      // Inline, muted, script-started: what a WebView needs to show the camera in the page.
      assert.ok(await sdk.$('video[playsinline][webkit-playsinline][muted][autoplay]'));
      await at(sdk, 'processing');
      await advance(5);
    },
  },
  decline: {
    want: (id) => [{ callback: 'onComplete', status: 'failed', validationID: id }],
    async run(sdk) {
      await walkToConsent(sdk);
      await sdk.click('[data-testid=consent-decline]');
    },
  },
  expiry: {
    want: (id) => [{ callback: 'onExpired', status: 'expired', validationID: id }],
    async run(sdk) {
      await at(sdk, 'intro');
      await advance(121);
    },
  },
  cancel: {
    want: (id) => [{ callback: 'onComplete', status: 'failed', validationID: id }],
    async run(sdk, page) {
      await walkToConsent(sdk);
      // The back button: Android's, when the app calls webView.goBack(); a swipe on iOS.
      if (sdk === page) await page.goBack();
      else await sdk.evaluate(() => history.back());
    },
  },
};

for (const bridge of Object.keys(BRIDGES)) {
  test(`${bridge}: success, decline, expiry and cancel reach the bridge as the wrapper decodes them`, { timeout: 120_000 }, async () => {
    for (const [name, outcome] of Object.entries(OUTCOMES)) {
      const id = await create();
      const { page, sdk, sent, errors, close } = await open(BRIDGES[bridge], id);
      await outcome.run(sdk, page);
      const messages = await sent(1);
      await at(sdk, 'result');
      assert.deepEqual(messages.map(decodeLikeWrapper), outcome.want(id), `${bridge} ${name}: ${messages}`);
      assert.deepEqual(errors, [], `${bridge} ${name}`);
      await close();
    }
  });
}

test('events=hosted: the hosted flow\'s "<event>,<id>" to a WebViewSDK handler, in order', { timeout: 60_000 }, async () => {
  const ok = await create();
  let s = await open(HOSTED, ok, '&events=hosted');
  await OUTCOMES.success.run(s.sdk, s.page);
  assert.deepEqual(await s.sent(2), [`truora.steps.completed,${ok}`, `truora.process.succeeded,${ok}`]);
  await s.close();
  const declined = await create();
  s = await open(HOSTED, declined, '&events=hosted');
  await OUTCOMES.decline.run(s.sdk, s.page);
  assert.deepEqual(await s.sent(1), [`truora.process.failed,${declined}`]);
  await s.close();
});

test('the page fills a phone screen, pads the safe areas, and passes axe', { timeout: 60_000 }, async () => {
  const id = await create();
  const { page, close } = await open(BRIDGES.ios, id);
  await at(page, 'intro');
  const layout = await page.evaluate(() => ({
    viewport: document.querySelector('meta[name=viewport]').content,
    width: window.innerWidth,
    card: document.querySelector('.truora-card').getBoundingClientRect().width,
    padding: getComputedStyle(document.body).paddingTop,
    lang: document.documentElement.lang,
    bridge: window.TruoraWebView.bridge(),
  }));
  assert.match(layout.viewport, /viewport-fit=cover/);
  assert.equal(layout.card, layout.width, 'the journey spans the screen');
  assert.equal(layout.padding, '0px', 'no inset on a screen without a notch');
  assert.equal(layout.lang, 'es');
  assert.equal(layout.bridge, 'ios');
  await axeCheck(page, 'webview intro');
  await shot(page, 'webview-intro');
  await close();
});

test('after the video the back button no longer cancels', { timeout: 60_000 }, async () => {
  const id = await create();
  const { page, sdk, sent, close } = await open(BRIDGES.android, id);
  await walkToConsent(sdk);
  await sdk.click('[data-testid=consent-accept]');
  await at(sdk, 'geolocation');
  await sdk.click('[data-testid=geolocation-allow]');
  await at(sdk, 'liveness');
  await sdk.click('[data-testid=record]');
  await at(sdk, 'processing');
  await page.evaluate(() => { window.__pops = 0; window.addEventListener('popstate', () => { window.__pops += 1; }); });
  await page.goBack();
  // The page put its history entry back instead of cancelling; the outcome is the scenario's
  // (a cancel would have ended it `failed` before the clock moved).
  await page.waitForFunction(() => window.__pops === 1 && history.state && history.state.truora === 'journey');
  assert.equal(await page.getAttribute('#app', 'data-truora-step'), 'processing');
  await advance(5);
  assert.deepEqual((await sent(1)).map(decodeLikeWrapper), [{ callback: 'onComplete', status: 'succeeded', validationID: id }]);
  await close();
});
