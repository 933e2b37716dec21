#!/usr/bin/env python3
"""Polite reference client whose per-request timeout is exactly the suite's limit, 10 s
(--request-timeout-limit): otherwise good_client.py. It must PASS every case: in
`stalled-poll` the mock measures a little more than 10 s (the timer firing, the close, the mock
noticing it), which --request-timeout-slack covers.
"""

import sys

import good_client

good_client.REQUEST_TIMEOUT = 10

if __name__ == "__main__":
    sys.exit(good_client.main())
