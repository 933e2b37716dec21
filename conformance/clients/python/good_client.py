#!/usr/bin/env python3
"""Reference TruIdentidad client: Python standard library only.

Creates one `government` validation and follows it to the end the way a production backend
should: Truora-API-Key on every request, a form-encoded create, polls paced like Truora's own
SDK (1, 2, 4, 8, 16 s, then every 30 s) with jitter, Retry-After honoured for the rest of the
polling, capped exponential back-off on errors, a timeout on every request, and a total
deadline. Prints one JSON object as its last line of stdout.

Environment (the conformance contract, see conformance/README.md):
  TRUORA_API_BASE_URL            e.g. https://api.validations.truora.com or http://127.0.0.1:8080
  TRUORA_API_KEY                 your API key
  TRUORA_ACCOUNT_ID              the account_id to create the validation with
  TRUORA_POLL_DEADLINE_SECONDS   optional: give up after this long (default 300)

The bad reference clients in ../bad/ subclass `Client` and break one rule each.
"""

import email.utils
import http.client
import json
import os
import random
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# Truora's SDK schedule: the wait before the 1st, 2nd, ... poll; the last one repeats.
SCHEDULE = [1, 2, 4, 8, 16, 30]
REQUEST_TIMEOUT = 5          # seconds, for every HTTP call
MAX_CONSECUTIVE_ERRORS = 2   # then give up (the 3rd failure in a row ends the run)
MAX_BACKOFF = 30


class Transient(Exception):
    """A failure worth retrying: timeout, reset, 5xx, 429, unreadable body."""

    def __init__(self, message, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


class Fatal(Exception):
    """A failure a retry cannot fix (4xx other than 429)."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def parse_retry_after(value):
    """Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in seconds."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Client:
    def __init__(self, base_url, api_key, account_id, deadline):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.account_id = account_id
        self.deadline = deadline
        self.floor = 1.0  # minimum wait; a Retry-After raises it for good

    # --- HTTP -------------------------------------------------------------------------------

    def headers(self, kind):
        return {"Truora-API-Key": self.api_key}

    def send(self, method, path, kind, body=None, content_type=None):
        headers = self.headers(kind)
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.base_url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            detail = e.read()[:200].decode("utf-8", "replace")
            if e.code == 429 or e.code >= 500:
                raise Transient(f"{method} {path}: {e.code} {detail}", parse_retry_after(e.headers.get("Retry-After")))
            raise Fatal(f"{method} {path}: {e.code} {detail}")
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            raise Transient(f"{method} {path}: {e}")
        try:
            return json.loads(raw)
        except ValueError:
            raise Transient(f"{method} {path}: unreadable body")

    def create_body(self):
        form = {"type": "government", "account_id": self.account_id, "user_authorized": "true"}
        return urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"

    def create(self):
        body, ctype = self.create_body()
        ambiguous = 0
        errors = 0
        while True:
            try:
                return self.send("POST", "/v1/validations", "create", body, ctype)
            except Transient as e:
                errors += 1
                if e.retry_after is None:
                    # Timeout, reset or 5xx: the validation may exist. Re-send once, later.
                    ambiguous += 1
                    if ambiguous > 1:
                        raise Fatal(f"create failed twice without an answer: {e}")
                if errors > MAX_CONSECUTIVE_ERRORS:
                    raise Fatal(f"create kept failing: {e}")
                log(f"create: {e}; retrying")
                time.sleep(self.wait_after_error(errors, e.retry_after))

    def poll(self, validation_id):
        return self.send("GET", "/v1/validations/" + urllib.parse.quote(validation_id, safe=""), "poll")

    # --- pacing -----------------------------------------------------------------------------

    def jittered(self, seconds):
        return seconds * random.uniform(1.1, 1.3)

    def wait_for_step(self, step):
        return self.jittered(max(SCHEDULE[min(step, len(SCHEDULE) - 1)], self.floor))

    def wait_after_error(self, errors, retry_after):
        if retry_after is not None:
            self.floor = max(self.floor, retry_after)
            # The floor, not this Retry-After: a shorter one later does not undo a slow-down.
            return self.jittered(max(self.floor, 1.0))
        return self.jittered(max(min(2 ** (errors - 1), MAX_BACKOFF), self.floor))

    @staticmethod
    def is_terminal(v):
        return v.get("validation_status") in ("success", "failure") or bool(v.get("failure_status"))

    def result(self, validation_id, v):
        out = {"validation_id": validation_id, "validation_status": v.get("validation_status", "pending")}
        if v.get("failure_status"):
            out["failure_status"] = v["failure_status"]
        return out

    # --- the flow ---------------------------------------------------------------------------

    def run(self):
        started = time.monotonic()
        created = self.create()
        vid = created["validation_id"]
        log(f"created {vid}")
        step, errors = 0, 0
        wait = self.wait_for_step(0)
        while True:
            if time.monotonic() - started + wait > self.deadline:
                log(f"{vid}: still pending at the deadline, giving up")
                return {"validation_id": vid, "validation_status": "pending"}
            time.sleep(wait)
            try:
                v = self.poll(vid)
            except Transient as e:
                errors += 1
                if errors > MAX_CONSECUTIVE_ERRORS:
                    log(f"{vid}: {errors} errors in a row, giving up: {e}")
                    return {"validation_id": vid, "validation_status": "pending"}
                log(f"{vid}: {e}; backing off")
                wait = self.wait_after_error(errors, e.retry_after)
                continue
            errors = 0
            if self.is_terminal(v):
                return self.result(vid, v)
            step += 1
            wait = self.wait_for_step(step)


def main(client_class=Client):
    env = os.environ
    try:
        client = client_class(
            env["TRUORA_API_BASE_URL"],
            env["TRUORA_API_KEY"],
            env["TRUORA_ACCOUNT_ID"],
            float(env.get("TRUORA_POLL_DEADLINE_SECONDS", "300")),
        )
    except KeyError as e:
        log(f"missing environment variable {e}")
        return 2
    try:
        result = client.run()
    except Fatal as e:
        log(f"error: {e}")
        print(json.dumps({"validation_status": "error", "error": str(e)}))
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
