#!/usr/bin/env python3
"""Bad client: polls an id of its own making (the account_id) instead of the validation_id the
create returned (breaks poll-uses-validation-id; it stops with an error on the 404)."""
from _base import Client, main


class ReusesWrongId(Client):
    def poll(self, validation_id):
        return super().poll(self.account_id)


if __name__ == "__main__":
    raise SystemExit(main(ReusesWrongId))
