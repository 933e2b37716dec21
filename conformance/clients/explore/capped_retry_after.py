#!/usr/bin/env python3
"""Explore self-test: a capped Retry-After.

The client waits at most 10 s whatever Retry-After says, a common "safety cap". Every fixed
case passes (their Retry-After is 1 or 2 s). A 429 or 503 asking for 11 s or more breaks
honour-retry-after.
"""
from _base import Client, main

CAP = 10.0


class CappedRetryAfter(Client):
    def wait_after_error(self, errors, retry_after):
        if retry_after is not None:
            retry_after = min(retry_after, CAP)
        return super().wait_after_error(errors, retry_after)

    def jittered(self, seconds):
        # The cap applies to the final wait too, jitter included.
        return min(super().jittered(seconds), CAP)


if __name__ == "__main__":
    raise SystemExit(main(CappedRetryAfter))
