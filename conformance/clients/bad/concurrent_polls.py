#!/usr/bin/env python3
"""Bad client: fires every poll twice at once, from two threads (breaks one-poll-in-flight)."""
import threading

from _base import Client, main


class ConcurrentPolls(Client):
    def poll(self, validation_id):
        results = [None, None]

        def one(i):
            try:
                results[i] = ("ok", Client.poll(self, validation_id))
            except Exception as e:  # handed back to the caller below
                results[i] = ("err", e)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        kind, value = results[0]
        if kind == "err":
            raise value
        return value


if __name__ == "__main__":
    raise SystemExit(main(ConcurrentPolls))
