#!/usr/bin/env python3
"""Bad client: waits exactly 1, 2, 4 ... seconds, with no jitter (warns on jitter)."""
from _base import Client, main


class NoJitter(Client):
    def jittered(self, seconds):
        return seconds


if __name__ == "__main__":
    raise SystemExit(main(NoJitter))
