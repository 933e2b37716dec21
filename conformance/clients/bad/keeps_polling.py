#!/usr/bin/env python3
"""Bad client: polls twice more after the validation ended (breaks stop-after-terminal)."""
import time

from _base import Client, main


class KeepsPolling(Client):
    def result(self, validation_id, v):
        for _ in range(2):
            time.sleep(self.jittered(1))
            self.poll(validation_id)
        return super().result(validation_id, v)


if __name__ == "__main__":
    raise SystemExit(main(KeepsPolling))
