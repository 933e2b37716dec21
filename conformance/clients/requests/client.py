#!/usr/bin/env python3
"""A TruIdentidad client on `requests` + urllib3, written from conformance/README.md alone.

Polite: a form-encoded create with Truora-API-Key on every request; a (5 s connect, 5 s read)
timeout per request; polls after Truora's SDK schedule (1, 2, 4, 8, 16, 30 s) times a random
factor in [1.1, 1.3]; Retry-After honoured and kept as a floor; back-off 1 s, x2, cap 30 s on
5xx, 429, resets and timeouts, giving up after 5 errors in a row; stop at a terminal state; the
deadline from the first request. An ambiguous create (no response, or a 5xx other than 503) is
not re-sent: the client stops and reports it (exit 3, the error line).

urllib3 is configured as many `requests` users do: one transport retry of an idempotent GET
after a connection error or a read timeout (`Retry(total=1, read=1, connect=1, status=0)`),
which the suite tolerates (README, "Transport retries"); POST is never retried by it.

`--defect keeps-polling` breaks one rule on purpose (stop-after-terminal): it polls once more
after the terminal answer.
"""

import email.utils
import json
import os
import random
import sys
import time

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

SCHEDULE = [1, 2, 4, 8, 16, 30]
TIMEOUT = (5, 5)
MAX_ERRORS = 5
EXIT_DELIBERATE_ERROR = 3


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Transient(Exception):
    def __init__(self, msg, status=0, retry_after=None):
        super().__init__(msg)
        self.status = status
        self.retry_after = retry_after


class Fatal(Exception):
    def __init__(self, reason, msg):
        super().__init__(msg)
        self.reason = reason


def retry_after(value):
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def jittered(seconds):
    return seconds * random.uniform(1.1, 1.3)


class Client:
    def __init__(self, base, key, account, deadline, keeps_polling):
        self.base = base.rstrip("/")
        self.account = account
        self.deadline = deadline
        self.keeps_polling = keeps_polling
        self.floor = 1.0
        self.first_request = None
        self.session = requests.Session()
        self.session.headers["Truora-API-Key"] = key
        retries = Retry(total=1, connect=1, read=1, status=0, other=0,
                        allowed_methods=frozenset({"GET"}), backoff_factor=0, raise_on_status=False)
        self.session.mount("http://", HTTPAdapter(max_retries=retries))
        self.session.mount("https://", HTTPAdapter(max_retries=retries))

    def send(self, method, path, **kw):
        if self.first_request is None:
            self.first_request = time.monotonic()
        what = f"{method} {path}"
        try:
            r = self.session.request(method, self.base + path, timeout=TIMEOUT, **kw)
        except requests.RequestException as e:
            raise Transient(f"{what}: {e}")
        if r.status_code == 429 or r.status_code >= 500:
            raise Transient(f"{what}: {r.status_code}", r.status_code, retry_after(r.headers.get("Retry-After")))
        if r.status_code >= 400:
            raise Fatal(f"http_{r.status_code}", f"{what}: {r.status_code} {r.text[:200]}")
        try:
            return r.json()
        except ValueError:
            raise Transient(f"{what}: unreadable body", r.status_code)

    def wait_after_error(self, errors, e):
        if e.retry_after is not None:
            self.floor = max(self.floor, e.retry_after)
            return jittered(max(e.retry_after, 1.0))
        return jittered(max(min(2 ** (errors - 1), 30), self.floor))

    def create(self):
        form = {"type": "government", "account_id": self.account, "user_authorized": "true"}
        errors = 0
        while True:
            try:
                return self.send("POST", "/v1/validations", data=form)["validation_id"]
            except Transient as e:
                if e.status not in (429, 503):
                    raise Fatal("create_outcome_unknown", f"{e}; not re-sending a create that may exist")
                errors += 1
                if errors >= MAX_ERRORS:
                    raise Fatal("create_failed", str(e))
                time.sleep(self.wait_after_error(errors, e))

    def run(self):
        vid = self.create()
        log(f"created {vid}")
        step, errors = 0, 0
        wait = jittered(max(SCHEDULE[0], self.floor))
        while True:
            if time.monotonic() - self.first_request + wait > self.deadline:
                return {"validation_id": vid, "validation_status": "pending"}
            time.sleep(wait)
            try:
                v = self.send("GET", f"/v1/validations/{vid}")
            except Transient as e:
                errors += 1
                if errors >= MAX_ERRORS:
                    return {"validation_id": vid, "validation_status": "pending"}
                wait = self.wait_after_error(errors, e)
                continue
            errors = 0
            status, failure = v.get("validation_status"), v.get("failure_status")
            if status in ("success", "failure") or failure:
                if self.keeps_polling:
                    time.sleep(jittered(1))
                    self.send("GET", f"/v1/validations/{vid}")
                out = {"validation_id": vid, "validation_status": status}
                if failure:
                    out["failure_status"] = failure
                return out
            step += 1
            wait = jittered(max(SCHEDULE[min(step, len(SCHEDULE) - 1)], self.floor))


def main():
    env = os.environ
    client = Client(env["TRUORA_API_BASE_URL"], env["TRUORA_API_KEY"], env["TRUORA_ACCOUNT_ID"],
                    float(env.get("TRUORA_POLL_DEADLINE_SECONDS", "300")),
                    sys.argv[1:] == ["--defect", "keeps-polling"])
    try:
        result = client.run()
    except Fatal as e:
        log(f"error: {e}")
        print('{"validation_status": "error", "error": "%s"}' % e.reason, flush=True)
        return EXIT_DELIBERATE_ERROR
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
