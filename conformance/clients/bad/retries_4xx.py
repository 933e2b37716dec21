#!/usr/bin/env python3
"""Bad client: treats every 4xx like a transient error and re-sends the request unchanged
(breaks no-retry-unchanged-4xx: the 401 on the create in invalid-api-key, the 404 on polls in
poll-not-found)."""
from _base import Client, main, good_client


class Retries4xx(Client):
    def send(self, *args, **kwargs):
        try:
            return super().send(*args, **kwargs)
        except good_client.Fatal as e:
            raise good_client.Transient(str(e))


if __name__ == "__main__":
    raise SystemExit(main(Retries4xx))
