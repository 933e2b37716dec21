#!/usr/bin/env python3
"""Bad client: sends Truora-API-Key on the create but not on polls (breaks api-key-on-every-request)."""
from _base import Client, main


class NoKeyOnPolls(Client):
    def headers(self, kind):
        return {} if kind == "poll" else super().headers(kind)


if __name__ == "__main__":
    raise SystemExit(main(NoKeyOnPolls))
