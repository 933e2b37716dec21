#!/usr/bin/env node
// Reference TruIdentidad client: Node.js 18+ with the built-in fetch, no packages.
//
// Same behaviour as ../python/good_client.py: Truora-API-Key on every request, form-encoded
// create, polls paced like Truora's SDK (1, 2, 4, 8, 16 s, then 30 s) with jitter, Retry-After
// honoured for the rest of the polling, capped back-off on errors, a 5 s timeout on every
// request (10 s on the create, the process's first), and a total deadline
// (TRUORA_POLL_DEADLINE_SECONDS, default 300). Prints one JSON object as the last line of stdout.
//
// `--defect ignores-retry-after` makes it a corpus breaker with that one defect: after a 429 or
// 503 it waits its own back-off instead of the Retry-After (and never raises its floor).

import { pathToFileURL } from 'node:url';

const SCHEDULE = [1, 2, 4, 8, 16, 30];
const REQUEST_TIMEOUT_MS = 5000;
// The create's timeout: the suite's limit (and Truora's SDK default) rather than 5 s, because
// the create is the process's first request and its timer also runs while Node sets fetch up
// (it loads and compiles its HTTP client on first use): with 40 clients starting at once at a
// load average above 20 that took over 5 s, so the create timed out before it was sent, and
// the client took that for an ambiguous create (see warmUp).
const CREATE_TIMEOUT_MS = 10000;
const MAX_CONSECUTIVE_ERRORS = 2; // the 3rd failure in a row ends the run
const MAX_BACKOFF = 30;
// The one defect a corpus breaker built on this client carries (see expected.toml), or null.
const DEFECT = process.argv.includes('--defect') ? process.argv[process.argv.indexOf('--defect') + 1] : null;

class Transient extends Error {
  constructor(message, retryAfter = null) {
    super(message);
    this.retryAfter = retryAfter;
  }
}
export class Fatal extends Error {}

const log = (msg) => process.stderr.write(`${msg}\n`);
const sleep = (s) => new Promise((resolve) => setTimeout(resolve, s * 1000));
const jittered = (s) => s * (1.1 + Math.random() * 0.2);

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in seconds. */
function parseRetryAfter(value) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(0, (when - Date.now()) / 1000);
}

/**
 * Loads fetch's implementation before any request is timed: Node loads it lazily on first
 * use, which took 0.3 to 0.7 s at a load average near 20 (more with many clients starting), inside
 * the first request's timeout. A `data:` URL goes through fetch without touching the network.
 */
async function warmUp() {
  try {
    await (await fetch('data:,')).text();
  } catch {
    // Only a warm-up: the create reports any real problem.
  }
}

/** Follows one validation; `job` is the service contract's object (see service.mjs). */
export async function follow({ baseUrl, apiKey, accountId, deadline = 300 }) {
  const base = baseUrl.replace(/\/+$/, '');
  let floor = 1; // minimum wait; a Retry-After raises it for good

  async function send(method, path, body, timeoutMs = REQUEST_TIMEOUT_MS) {
    const headers = { 'Truora-API-Key': apiKey };
    if (body) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    let resp;
    let text;
    try {
      resp = await fetch(base + path, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
      text = await resp.text();
    } catch (e) {
      throw new Transient(`${method} ${path}: ${e.cause?.code || e.name}: ${e.message}`);
    }
    if (resp.status === 429 || resp.status >= 500) {
      throw new Transient(`${method} ${path}: ${resp.status} ${text.slice(0, 200)}`, parseRetryAfter(resp.headers.get('retry-after')));
    }
    if (resp.status >= 400) throw new Fatal(`${method} ${path}: ${resp.status} ${text.slice(0, 200)}`);
    try {
      return JSON.parse(text);
    } catch {
      throw new Transient(`${method} ${path}: unreadable body`);
    }
  }

  function waitAfterError(errors, retryAfter) {
    if (DEFECT !== 'ignores-retry-after' && retryAfter !== null && retryAfter !== undefined) {
      floor = Math.max(floor, retryAfter);
      // The floor, not this Retry-After: a shorter one later does not undo a slow-down.
      return jittered(Math.max(floor, 1));
    }
    return jittered(Math.max(Math.min(2 ** (errors - 1), MAX_BACKOFF), floor));
  }

  async function create() {
    const body = new URLSearchParams({ type: 'government', account_id: accountId, user_authorized: 'true' }).toString();
    let ambiguous = 0;
    let errors = 0;
    for (;;) {
      try {
        return await send('POST', '/v1/validations', body, CREATE_TIMEOUT_MS);
      } catch (e) {
        if (!(e instanceof Transient)) throw e;
        errors += 1;
        // Timeout, reset or 5xx: the validation may exist. Re-send once, later.
        if (e.retryAfter === null && ++ambiguous > 1) throw new Fatal(`create failed twice without an answer: ${e.message}`);
        if (errors > MAX_CONSECUTIVE_ERRORS) throw new Fatal(`create kept failing: ${e.message}`);
        log(`create: ${e.message}; retrying`);
        await sleep(waitAfterError(errors, e.retryAfter));
      }
    }
  }

  const isTerminal = (v) => v.validation_status === 'success' || v.validation_status === 'failure' || Boolean(v.failure_status);

  async function run() {
    await warmUp();
    const started = Date.now();
    const vid = (await create()).validation_id;
    log(`created ${vid}`);
    let step = 0;
    let errors = 0;
    let wait = jittered(Math.max(SCHEDULE[0], floor));
    for (;;) {
      if ((Date.now() - started) / 1000 + wait > deadline) {
        log(`${vid}: still pending at the deadline, giving up`);
        return { validation_id: vid, validation_status: 'pending' };
      }
      await sleep(wait);
      let v;
      try {
        v = await send('GET', `/v1/validations/${encodeURIComponent(vid)}`);
      } catch (e) {
        if (!(e instanceof Transient)) throw e;
        errors += 1;
        if (errors > MAX_CONSECUTIVE_ERRORS) {
          log(`${vid}: ${errors} errors in a row, giving up: ${e.message}`);
          return { validation_id: vid, validation_status: 'pending' };
        }
        log(`${vid}: ${e.message}; backing off`);
        wait = waitAfterError(errors, e.retryAfter);
        continue;
      }
      errors = 0;
      if (isTerminal(v)) {
        const out = { validation_id: vid, validation_status: v.validation_status };
        if (v.failure_status) out.failure_status = v.failure_status;
        return out;
      }
      step += 1;
      wait = jittered(Math.max(SCHEDULE[Math.min(step, SCHEDULE.length - 1)], floor));
    }
  }

  return run();
}

/** The command: the conformance suite's environment contract, the result as the last line. */
async function main() {
  const env = process.env;
  for (const name of ['TRUORA_API_BASE_URL', 'TRUORA_API_KEY', 'TRUORA_ACCOUNT_ID']) {
    if (!env[name]) {
      log(`missing environment variable ${name}`);
      process.exit(2);
    }
  }
  try {
    const result = await follow({
      baseUrl: env.TRUORA_API_BASE_URL,
      apiKey: env.TRUORA_API_KEY,
      accountId: env.TRUORA_ACCOUNT_ID,
      deadline: Number(env.TRUORA_POLL_DEADLINE_SECONDS || 300),
    });
    console.log(JSON.stringify(result));
  } catch (e) {
    log(`error: ${e.message}`);
    console.log(JSON.stringify({ validation_status: 'error', error: e.message }));
    process.exitCode = 1;
  }
}

// Run as a command, not when service.mjs imports `follow`.
if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
