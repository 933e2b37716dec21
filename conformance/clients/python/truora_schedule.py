#!/usr/bin/env python3
"""Polite reference client on Truora's own SDK schedule (github.com/truora/truora-validations-sdk):
waits exactly 1, 2, 4, 8, 16 s and then 30 s between polls, with no jitter; an error (5xx,
reset, timeout) takes the next step of the same schedule; a Retry-After is honoured and kept as
a floor; a 10 s timeout on every request (the suite's limit); gives up at the deadline
(TRUORA_POLL_DEADLINE_SECONDS) and after 3 failures in a row.

It must never FAIL. With no jitter its waits land on the half-second grid, so the `jitter`
heuristic WARNs in the cases with enough waits without a server hint (see ../expected.toml).
Standard library only; the HTTP layer is good_client.py's.
"""

import sys
import time

import good_client
from good_client import Client, Transient, log, main

good_client.REQUEST_TIMEOUT = 10  # seconds: Truora's SDK default, and the suite's limit


class TruoraSchedule(Client):
    answered = 0.0  # time.monotonic() when the last request ended (answer, error or timeout)

    def send(self, *args, **kwargs):
        try:
            return super().send(*args, **kwargs)
        finally:
            self.answered = time.monotonic()

    def sleep_after_answer(self, wait):
        """Waits `wait` seconds from the end of the last request, not from now: the time spent
        reading and logging the answer is part of the wait, as in the SDK's timer."""
        time.sleep(max(0.0, self.answered + wait - time.monotonic()))

    def jittered(self, seconds):
        return seconds

    def step_wait(self, step, retry_after=None):
        wait = max(good_client.SCHEDULE[min(step, len(good_client.SCHEDULE) - 1)], self.floor)
        if retry_after is not None:
            self.floor = max(self.floor, retry_after)
            wait = max(wait, retry_after)
        return wait

    def wait_after_error(self, errors, retry_after):
        # Only the create's retries come here (the poll loop below keeps its own step).
        return self.step_wait(errors, retry_after)

    def run(self):
        started = time.monotonic()
        created = self.create()
        vid = created["validation_id"]
        log(f"created {vid}")
        step, errors = 0, 0
        while True:
            wait = self.step_wait(step) if errors == 0 else wait
            if time.monotonic() - started + wait > self.deadline:
                log(f"{vid}: still pending at the deadline, giving up")
                return {"validation_id": vid, "validation_status": "pending"}
            self.sleep_after_answer(wait)
            step += 1
            try:
                v = self.poll(vid)
            except Transient as e:
                errors += 1
                if errors > good_client.MAX_CONSECUTIVE_ERRORS:
                    log(f"{vid}: {errors} errors in a row, giving up: {e}")
                    return {"validation_id": vid, "validation_status": "pending"}
                log(f"{vid}: {e}; next step of the schedule")
                wait = self.step_wait(step, e.retry_after)
                continue
            errors = 0
            if self.is_terminal(v):
                return self.result(vid, v)


if __name__ == "__main__":
    sys.exit(main(TruoraSchedule))
