#!/usr/bin/env python3
"""Explore self-test: a 503 on create treated as final.

The client retries a create after a 429 or a reset, but takes a 503 as "the service refused"
and stops with an error. Every fixed case passes (their create faults are a 429 and a reset).
A create answered 503 makes it exit 1 without a result: client-completes FAILS.
"""
from _base import Client, Fatal, Transient, main


class Create503Final(Client):
    def send(self, method, path, kind, body=None, content_type=None):
        try:
            return super().send(method, path, kind, body, content_type)
        except Transient as e:
            if kind == "create" and ": 503 " in str(e):
                raise Fatal(f"create refused: {e}") from e
            raise


if __name__ == "__main__":
    raise SystemExit(main(Create503Final))
