#!/usr/bin/env python3
"""Bad client: sends the key as `Authorization: Bearer …` instead of Truora-API-Key (breaks
api-key-on-every-request; it stops with an error on the 401, which is the right reaction)."""
from _base import Client, main


class KeyAsAuthorization(Client):
    def headers(self, kind):
        return {"Authorization": f"Bearer {self.api_key}"}


if __name__ == "__main__":
    raise SystemExit(main(KeyAsAuthorization))
