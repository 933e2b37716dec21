#!/usr/bin/env python3
"""Bad client: ignores its deadline and polls a pending validation forever (breaks give-up-by-deadline)."""
from _base import Client, main


class NeverGivesUp(Client):
    def __init__(self, *args):
        super().__init__(*args)
        self.deadline = float("inf")

    def wait_for_step(self, step):
        return self.jittered(min(super().wait_for_step(step), 2))


if __name__ == "__main__":
    raise SystemExit(main(NeverGivesUp))
