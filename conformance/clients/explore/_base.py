"""Shared import for the explore self-test clients: each subclasses the good Python client and
adds one realistic defect that every fixed case misses (conformance run: PASSED) but some
interleaving of faults exposes (conformance explore finds it and shrinks it)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import good_client  # noqa: E402

Client = good_client.Client
Transient = good_client.Transient
Fatal = good_client.Fatal
log = good_client.log
main = good_client.main
