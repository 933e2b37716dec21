#!/usr/bin/env python3
"""Bad client: leaves `user_authorized=true` out of the create (warns on user-authorized)."""
import urllib.parse

from _base import Client, main


class NoUserAuthorized(Client):
    def create_body(self):
        form = {"type": "government", "account_id": self.account_id}
        return urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"


if __name__ == "__main__":
    raise SystemExit(main(NoUserAuthorized))
