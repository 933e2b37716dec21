#!/usr/bin/env python3
"""Bad client: no per-request timeout, so a stalled poll hangs it (breaks abort-stalled-request)."""
from _base import good_client, main

good_client.REQUEST_TIMEOUT = None

if __name__ == "__main__":
    raise SystemExit(main())
