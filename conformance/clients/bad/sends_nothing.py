#!/usr/bin/env python3
"""Bad client: crashes on start-up, before its first request (fails client-completes in every
case, and nothing else)."""
from _base import Client, main


class SendsNothing(Client):
    def run(self):
        raise RuntimeError("could not load the integration's settings")


if __name__ == "__main__":
    raise SystemExit(main(SendsNothing))
