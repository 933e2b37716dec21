"""Shared import for the bad reference clients: each subclasses the good Python client and
breaks exactly one rule, so the suite's verdict on it is known in advance."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import good_client  # noqa: E402

Client = good_client.Client
main = good_client.main
