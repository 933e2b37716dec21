#!/usr/bin/env python3
"""Bad client: creates the validation with a hard-coded account_id instead of
TRUORA_ACCOUNT_ID (breaks create-account-id)."""
from _base import Client, main


class WrongAccountId(Client):
    def __init__(self, base_url, api_key, account_id, deadline):
        super().__init__(base_url, api_key, "my-test-account", deadline)


if __name__ == "__main__":
    raise SystemExit(main(WrongAccountId))
