#!/usr/bin/env python3
"""Explore self-test: an error counter that never resets.

The client gives up after 3 failed polls in total over the validation's life, however far
apart, instead of 3 in a row. Every fixed case passes (none has 3 failures with a success in
between, and `outage`'s 3 in a row are meant to end it). Three brief errors spread over a
validation that then succeeds make it report `pending`: outcome-matches FAILS.
"""
import time

from _base import Client, Transient, log, main


class ErrorCounterNeverReset(Client):
    def run(self):
        started = time.monotonic()
        created = self.create()
        vid = created["validation_id"]
        step, errors = 0, 0
        wait = self.wait_for_step(0)
        while True:
            if time.monotonic() - started + wait > self.deadline:
                return {"validation_id": vid, "validation_status": "pending"}
            time.sleep(wait)
            try:
                v = self.poll(vid)
            except Transient as e:
                errors += 1
                if errors > 2:
                    log(f"{vid}: {errors} errors, giving up: {e}")
                    return {"validation_id": vid, "validation_status": "pending"}
                wait = self.wait_after_error(errors, e.retry_after)
                continue
            # The defect: `errors` is not reset after a successful poll.
            if self.is_terminal(v):
                return self.result(vid, v)
            step += 1
            wait = self.wait_for_step(step)


if __name__ == "__main__":
    raise SystemExit(main(ErrorCounterNeverReset))
