#!/usr/bin/env python3
"""Bad client: creates a `document` validation instead of `government` (breaks
create-type-government)."""
import urllib.parse

from _base import Client, main


class WrongType(Client):
    def create_body(self):
        form = {"type": "document", "account_id": self.account_id, "user_authorized": "true"}
        return urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"


if __name__ == "__main__":
    raise SystemExit(main(WrongType))
