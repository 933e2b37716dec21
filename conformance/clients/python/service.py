#!/usr/bin/env python3
"""The polite Python reference client as a service: the contract of `conformance run
--client-url` and `load --client-url`. Each POST carries one validation to follow:

    {"account_id": "...", "base_url": "...", "api_key": "...", "poll_deadline_seconds": 60}

and is answered, once the validation is followed to its end, with the client's result object
(`{"validation_id", "validation_status", "failure_status"}`), 502 with an `error` when it could
not be followed. One thread per request, as a backend's worker pool would follow validations.

    python3 service.py [PORT]      # PORT 0 (default) picks a free one

The first stdout line is `listening on http://127.0.0.1:PORT`. Standard library only; the
polling itself is good_client.py's.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from good_client import Client, Fatal, log


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        try:
            length = int(self.headers.get("Content-Length", "0"))
            job = json.loads(self.rfile.read(length) or b"{}")
            client = Client(
                job["base_url"],
                job["api_key"],
                job["account_id"],
                float(job.get("poll_deadline_seconds", 300)),
            )
        except (ValueError, KeyError, TypeError) as e:
            return self.answer(400, {"validation_status": "error", "error": f"bad job: {e}"})
        try:
            result = client.run()
        except Fatal as e:
            return self.answer(502, {"validation_status": "error", "error": str(e)})
        self.answer(200, result)

    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        log(fmt % args)


class Server(ThreadingHTTPServer):
    # A fleet opens many connections at once; the default backlog of 5 would refuse them.
    request_queue_size = 1024


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = Server(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
