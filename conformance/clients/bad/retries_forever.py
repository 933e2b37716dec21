#!/usr/bin/env python3
"""Bad client: retries failed polls every second without limit or back-off (breaks retries-capped and backoff-on-errors)."""
from _base import Client, main, good_client


class RetriesForever(Client):
    def wait_after_error(self, errors, retry_after):
        return 1.0


good_client.MAX_CONSECUTIVE_ERRORS = 10**9

if __name__ == "__main__":
    raise SystemExit(main(RetriesForever))
