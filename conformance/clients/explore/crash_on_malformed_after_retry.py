#!/usr/bin/env python3
"""Explore self-test: a crash on a malformed body that follows a retry.

The first attempt of a request handles an unreadable body as a transient error, but once the
client has retried anything, the retry path parses the body without that guard and the
exception escapes. Every fixed case passes (none sends a malformed or empty body). A retry
followed by a truncated 200 makes it crash: client-completes FAILS.
"""
from _base import Client, Transient, main


class CrashOnMalformedAfterRetry(Client):
    retried = False

    def send(self, method, path, kind, body=None, content_type=None):
        try:
            return super().send(method, path, kind, body, content_type)
        except Transient as e:
            if self.retried and str(e).endswith("unreadable body"):
                # The defect: the retry path lets the parse error escape.
                raise ValueError(f"{method} {path}: cannot parse the response") from e
            self.retried = True
            raise


if __name__ == "__main__":
    raise SystemExit(main(CrashOnMalformedAfterRetry))
