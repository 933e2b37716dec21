#!/usr/bin/env python3
"""Bad client: reports every finished validation as a success (breaks outcome-matches)."""
from _base import Client, main


class WrongOutcome(Client):
    def result(self, validation_id, v):
        return {"validation_id": validation_id, "validation_status": "success"}


if __name__ == "__main__":
    raise SystemExit(main(WrongOutcome))
