// Starts the truidentidad-mock binary on a free loopback port and steers it through its
// control API (/_mock/). No dependencies: child_process and the global fetch (Node 18+).
// The binary comes from `options.binary`, else $TRUIDENTIDAD_MOCK_BIN, else the platform
// package npm installed with this one (@truidentidad-mock/linux-x64 and so on, an optional
// dependency each, as esbuild ships), else PATH.
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const ENV_BIN = 'TRUIDENTIDAD_MOCK_BIN';
/** Set to 1 to start a binary whose version differs from this package's. */
export const ENV_SKIP_VERSION_CHECK = 'TRUIDENTIDAD_MOCK_SKIP_VERSION_CHECK';
export const DEFAULT_API_KEY = 'test-key';

const require = createRequire(import.meta.url);
/** This package's version: the binary it starts must report the same. */
export const VERSION = require('./package.json').version;

/** The platform package's name for this machine, e.g. `@truidentidad-mock/linux-x64`. */
export const PLATFORM_PACKAGE = `@truidentidad-mock/${process.platform}-${process.arch}`;

/** The binary startMock() runs when given none: see the top of this file for the order. */
export function findBinary() {
  if (process.env[ENV_BIN]) return process.env[ENV_BIN];
  try {
    const dir = path.dirname(require.resolve(`${PLATFORM_PACKAGE}/package.json`));
    return path.join(dir, 'bin', process.platform === 'win32' ? 'truidentidad-mock.exe' : 'truidentidad-mock');
  } catch {
    // Not installed (another platform, or --omit=optional): fall back to PATH.
    return 'truidentidad-mock';
  }
}

const checked = new Map();

/**
 * Throws MockError, saying what to do, when `binary --version` is not this package's
 * version: a helper and a server of different versions disagree on the control API.
 */
export function checkVersion(binary) {
  if (process.env[ENV_SKIP_VERSION_CHECK] === '1' || checked.get(binary) === VERSION) return;
  let reported;
  try {
    reported = execFileSync(binary, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15000 })
      .trim().replace(/^truidentidad-mock\s*/, '');
  } catch (e) {
    throw new MockError(e.code === 'ENOENT'
      ? `the truidentidad-mock binary was not found: npm installs it with this package through ${PLATFORM_PACKAGE} (reinstall without --omit=optional: npm install --save-dev truidentidad-mock@${VERSION}); or set ${ENV_BIN} to a binary you built (cargo install truidentidad-mock)`
      : `${binary} --version failed: ${e.message}`);
  }
  const version = reported.split(' ')[0];
  if (version !== VERSION) {
    throw new MockError(`${binary} is truidentidad-mock ${reported}, but the truidentidad-mock npm package is ${VERSION}; the two must match. Either install the matching package (npm install --save-dev truidentidad-mock@${version}), or use the binary this package brings (npm install --save-dev truidentidad-mock@${VERSION}, and unset ${ENV_BIN} if it points at another build). To start it anyway, set ${ENV_SKIP_VERSION_CHECK}=1.`);
  }
  checked.set(binary, version);
}

/** A refused control call or a failed start; `status` and `body` carry the server's answer. */
export class MockError extends Error {
  constructor(message, status = undefined, body = undefined) {
    super(message);
    this.name = 'MockError';
    this.status = status;
    this.body = body;
  }
}

/**
 * Starts `truidentidad-mock serve --port 0` (manual clock, seed 42 by default) and resolves
 * once it prints `listening on http://…`.
 */
export async function startMock(options = {}) {
  const {
    binary = findBinary(),
    args = [],
    manualClock = true,
    seed = 42,
    apiKey = DEFAULT_API_KEY,
    adminToken,
    timeoutMs = 15000,
  } = options;
  checkVersion(binary);
  const argv = ['serve', '--port', '0', '--no-request-log', '--api-key', apiKey];
  if (manualClock) argv.push('--clock', 'manual');
  if (seed !== null && seed !== undefined) argv.push('--seed', String(seed));
  if (adminToken !== undefined) argv.push('--admin-token', adminToken);
  argv.push(...args);
  const child = spawn(binary, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { if (stderr.length < 64 * 1024) stderr += d; });
  const url = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const fail = (why) => {
      clearTimeout(timer);
      lines.close();
      child.kill('SIGKILL');
      reject(new MockError(`${binary} ${argv.join(' ')} did not start (${why})${stderr ? `:\n${stderr.trim()}` : ''}`));
    };
    const timer = setTimeout(() => fail(`no listening line within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (e) => fail(e.code === 'ENOENT'
      ? `not found; install truidentidad-mock on PATH or set ${ENV_BIN} to the binary`
      : e.message));
    // 'close', not 'exit': 'exit' can fire before the last of stderr has been read, and the
    // server's own message (say, which flag it refused) is what the caller needs to see.
    child.once('close', (code) => fail(`exited with code ${code}`));
    lines.once('line', (line) => {
      clearTimeout(timer);
      lines.close();
      child.removeAllListeners('close');
      const prefix = 'listening on ';
      if (!line.startsWith(prefix)) {
        child.kill('SIGKILL');
        reject(new MockError(`unexpected first line from truidentidad-mock: ${JSON.stringify(line)}`));
      } else {
        resolve(line.slice(prefix.length).trim());
      }
    });
  });
  track(child);
  return new MockServer(child, url, apiKey, adminToken);
}

/** Servers started and not yet exited; killed when Node exits. */
const running = new Set();
let exitHook = false;

/**
 * A handle the test forgot to stop (a test that threw before `stop()`) must neither keep Node
 * running nor outlive it: the child and its pipes do not hold the event loop open, and
 * whatever is still running is killed when Node exits.
 */
function track(child) {
  if (!exitHook) {
    exitHook = true;
    process.once('exit', killRunning);
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.unref();
  child.stdout.unref?.();
  child.stderr.unref?.();
}

function killRunning() {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** One running server. Methods map one to one to the control API. */
export class MockServer {
  #child;

  constructor(child, url, apiKey, adminToken) {
    this.#child = child;
    /** Base URL, e.g. http://127.0.0.1:41234: point your Truora client here. */
    this.url = url;
    /** The only Truora-API-Key the server accepts. */
    this.apiKey = apiKey;
    this.adminToken = adminToken;
  }

  /** POST /_mock/clock/advance: moves the manual clock forward. */
  advance(seconds) {
    return this.#call('POST', '/_mock/clock/advance', { query: { seconds: String(seconds) } });
  }

  /** POST /_mock/validations/{id}/complete: forces an outcome now (409 if already finished). */
  complete(validationId, outcome = { status: 'success' }) {
    return this.#call('POST', `/_mock/validations/${encodeURIComponent(validationId)}/complete`, { body: outcome });
  }

  /** POST /_mock/arm: the next `count` creates that select no scenario get `scenario`. */
  arm(scenario, count = 1) {
    return this.#call('POST', '/_mock/arm', { body: { scenario, count } });
  }

  /** GET /_mock/journal: recent requests, oldest first. */
  async journal(filter = {}) {
    const query = {};
    if (filter.validationId) query.validation_id = filter.validationId;
    if (filter.kind) query.kind = filter.kind;
    if (filter.limit) query.limit = String(filter.limit);
    return (await this.#call('GET', '/_mock/journal', { query })).entries;
  }

  /** GET /_mock/validations/{id}: scenario, phase, timeline and requests of one validation. */
  validation(validationId) {
    return this.#call('GET', `/_mock/validations/${encodeURIComponent(validationId)}`);
  }

  /** POST /_mock/reset: forgets validations, journal entries and armed scenarios. */
  async reset() {
    await this.#call('POST', '/_mock/reset');
  }

  /** GET /_mock/metrics: the Prometheus text. */
  async metrics() {
    const res = await this.#fetch('GET', '/_mock/metrics', {});
    return res.text();
  }

  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  async stop() {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  async #fetch(method, path, { query, body }) {
    const url = new URL(path, this.url);
    for (const [k, v] of Object.entries(query || {})) url.searchParams.set(k, v);
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.adminToken !== undefined) headers.Authorization = `Bearer ${this.adminToken}`;
    const res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? (method === 'POST' ? '' : undefined) : JSON.stringify(body),
      signal: AbortSignal.timeout(10000),
    });
    if (!res.ok) {
      const text = await res.text();
      let parsed = text;
      try { parsed = JSON.parse(text); } catch { /* not JSON: keep the text */ }
      const message = typeof parsed === 'object' && parsed && parsed.message ? parsed.message : text;
      throw new MockError(`${method} ${path} answered ${res.status}: ${message}`, res.status, parsed);
    }
    return res;
  }

  async #call(method, path, options = {}) {
    const res = await this.#fetch(method, path, options);
    const text = await res.text();
    return text ? JSON.parse(text) : undefined;
  }
}

/** The old name of {@link MockServer}, kept so existing imports still work. */
export { MockServer as MockHandle };
