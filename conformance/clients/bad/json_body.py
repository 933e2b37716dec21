#!/usr/bin/env python3
"""Bad client: sends the create as JSON instead of a form (breaks create-form-encoded)."""
import json

from _base import Client, main


class JsonBody(Client):
    def create_body(self):
        body = {"type": "government", "account_id": self.account_id, "user_authorized": True}
        return json.dumps(body).encode(), "application/json"


if __name__ == "__main__":
    raise SystemExit(main(JsonBody))
