#!/usr/bin/env python3
"""Bad client: re-sends the create at once after an ambiguous failure (a reset), with no
back-off (warns on create-not-resent-blindly: the first create may have stored a validation)."""
from _base import Client, main


class ResendsCreate(Client):
    def wait_after_error(self, errors, retry_after):
        if retry_after is None:
            return 0.0
        return super().wait_after_error(errors, retry_after)


if __name__ == "__main__":
    raise SystemExit(main(ResendsCreate))
