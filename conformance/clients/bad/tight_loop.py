#!/usr/bin/env python3
"""Bad client: polls every 50 ms (breaks min-poll-interval)."""
from _base import Client, main


class TightLoop(Client):
    def wait_for_step(self, step):
        return 0.05


if __name__ == "__main__":
    raise SystemExit(main(TightLoop))
