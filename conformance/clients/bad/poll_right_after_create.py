#!/usr/bin/env python3
"""Bad client: sends its first poll the moment the create is answered, then follows the good
schedule (breaks min-poll-interval: the create's response counts as the previous one)."""
from _base import Client, main


class PollRightAfterCreate(Client):
    def wait_for_step(self, step):
        return 0.0 if step == 0 else super().wait_for_step(step)


if __name__ == "__main__":
    raise SystemExit(main(PollRightAfterCreate))
