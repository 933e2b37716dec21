#!/usr/bin/env python3
"""Bad client: backs off on 429 as on any error, ignoring Retry-After (breaks honour-retry-after)."""
from _base import Client, main


class IgnoresRetryAfter(Client):
    def wait_after_error(self, errors, retry_after):
        return super().wait_after_error(errors, None)


if __name__ == "__main__":
    raise SystemExit(main(IgnoresRetryAfter))
