"""The handle on one running truidentidad-mock server."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sysconfig
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref
from typing import Any, Dict, List, Optional, Sequence

ENV_BIN = "TRUIDENTIDAD_MOCK_BIN"
#: Set to 1 to start a binary whose version differs from this package's.
ENV_SKIP_VERSION_CHECK = "TRUIDENTIDAD_MOCK_SKIP_VERSION_CHECK"
DEFAULT_API_KEY = "test-key"
#: This package's version; the binary it starts must report the same (tests/client_types.rs
#: holds it equal to pyproject.toml and the crate).
__version__ = "0.1.0"
BINARY = "truidentidad-mock.exe" if os.name == "nt" else "truidentidad-mock"


class MockError(RuntimeError):
    """The server could not be started, or a control call was refused.

    ``status`` is the HTTP status of a refused call (``None`` for start-up failures), and
    ``body`` the server's answer: Truora's error envelope, whose ``message`` says what was
    wrong.
    """

    def __init__(self, message: str, status: Optional[int] = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


def find_binary(explicit: Optional[str] = None) -> str:
    """The ``truidentidad-mock`` binary: ``explicit``, else ``$TRUIDENTIDAD_MOCK_BIN``, else the
    one the wheel installed next to this Python (the environment's ``bin``/``Scripts``, found
    even when the environment is not activated), else ``PATH``."""
    candidate = explicit or os.environ.get(ENV_BIN)
    if candidate:
        if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
            raise MockError(f"{candidate} is not an executable file (from {ENV_BIN} or the argument)")
        return candidate
    beside = os.path.join(sysconfig.get_path("scripts"), BINARY)
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("truidentidad-mock")
    if found is None:
        raise MockError(
            "the truidentidad-mock binary was not found: the truidentidad-mock wheel for your "
            f"platform installs it ({_REINSTALL}); or set {ENV_BIN} to a binary you built "
            "(cargo install truidentidad-mock)"
        )
    return found


_REINSTALL = f"pip install --force-reinstall truidentidad-mock=={__version__}"
_checked: Dict[str, str] = {}


def binary_version(binary: str) -> str:
    """What ``binary --version`` prints after the name, e.g. ``0.1.0 (commit 1a2b3c4d5e6f)``."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, timeout=15, check=True,
                             stdin=subprocess.DEVNULL).stdout.decode(errors="replace")
    except (OSError, subprocess.SubprocessError) as e:
        raise MockError(f"{binary} --version failed: {e}") from None
    return out.strip().removeprefix("truidentidad-mock").strip()


def check_version(binary: str) -> None:
    """Raises :class:`MockError`, saying what to do, when ``binary`` is not this package's
    version: a plugin and a server of different versions disagree on the control API."""
    if os.environ.get(ENV_SKIP_VERSION_CHECK) == "1" or _checked.get(binary) == __version__:
        return
    reported = binary_version(binary)
    version = reported.split(" ", 1)[0]
    if version != __version__:
        raise MockError(
            f"{binary} is truidentidad-mock {reported}, but the truidentidad-mock Python package "
            f"is {__version__}; the two must match. Either install the matching package "
            f"(pip install truidentidad-mock=={version}), or use the binary this package "
            f"brings ({_REINSTALL}, and unset {ENV_BIN} if it points at another build). "
            f"To start it anyway, set {ENV_SKIP_VERSION_CHECK}=1."
        )
    _checked[binary] = version


def _kill(process: "subprocess.Popen[bytes]") -> None:
    """Kills a server its handle never stopped (when the handle is collected, or at exit)."""
    if process.poll() is None:
        process.kill()
        process.wait()


class MockServer:
    """A running ``truidentidad-mock serve`` process on a free loopback port.

    Start it with :meth:`start` (or the pytest fixtures), stop it with :meth:`stop` or a
    ``with`` block. By default time is manual (``--clock manual``): nothing moves until
    :meth:`advance`, so tests reach any state without waiting.
    """

    def __init__(self, process: "subprocess.Popen[bytes]", url: str, api_key: str,
                 admin_token: Optional[str], stderr: Any) -> None:
        self._process = process
        self._stderr = stderr
        #: Base URL, e.g. ``http://127.0.0.1:41234``: point your Truora client's base URL here.
        self.url = url
        #: The only ``Truora-API-Key`` the server accepts.
        self.api_key = api_key
        #: The admin token the control API requires, if one was set.
        self.admin_token = admin_token
        # A server nobody stopped (a test that failed first, a handle dropped) must not outlive
        # its handle or the interpreter.
        self._finalizer = weakref.finalize(self, _kill, process)

    @classmethod
    def start(
        cls,
        binary: Optional[str] = None,
        *,
        args: Sequence[str] = (),
        manual_clock: bool = True,
        seed: Optional[int] = 42,
        api_key: str = DEFAULT_API_KEY,
        admin_token: Optional[str] = None,
        timeout: float = 15.0,
    ) -> "MockServer":
        """Starts the binary and waits for its ``listening on http://…`` line.

        ``args`` are extra ``serve`` flags, e.g. ``["--scenarios", "my.toml"]``.
        """
        found = find_binary(binary)
        check_version(found)
        command: List[str] = [found, "serve", "--port", "0", "--no-request-log",
                              "--api-key", api_key]
        if manual_clock:
            command += ["--clock", "manual"]
        if seed is not None:
            command += ["--seed", str(seed)]
        if admin_token is not None:
            command += ["--admin-token", admin_token]
        command += list(args)
        stderr = tempfile.TemporaryFile()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr,
                                   stdin=subprocess.DEVNULL)
        try:
            line = _first_line(process, timeout)
        except MockError:
            process.kill()
            process.wait()
            stderr.seek(0)
            log = stderr.read().decode(errors="replace").strip()
            stderr.close()
            raise MockError(f"{' '.join(command)} did not start:\n{log}") from None
        prefix = "listening on "
        if not line.startswith(prefix):
            process.kill()
            process.wait()
            stderr.close()
            raise MockError(f"unexpected first line from truidentidad-mock: {line!r}")
        return cls(process, line[len(prefix):], api_key, admin_token, stderr)

    # -- control API --------------------------------------------------------------------

    def advance(self, seconds: float) -> Dict[str, Any]:
        """Moves the manual clock forward (``POST /_mock/clock/advance``); returns the clock."""
        return self._call("POST", "/_mock/clock/advance", query={"seconds": str(seconds)})

    def complete(
        self,
        validation_id: str,
        status: str = "success",
        *,
        failure_status: Optional[str] = None,
        declined_reason: Optional[str] = None,
        expired_reason: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Forces a pending validation's outcome now (``POST /_mock/validations/{id}/complete``).

        ``complete(id)`` succeeds it; ``complete(id, "failure", failure_status="declined",
        declined_reason="similarity_threshold_not_passed")`` declines it. Raises :class:`MockError` (409) if it
        already finished.
        """
        body = {"status": status, "failure_status": failure_status,
                "declined_reason": declined_reason, "expired_reason": expired_reason}
        return self._call("POST", f"/_mock/validations/{_quote(validation_id)}/complete",
                          body={k: v for k, v in body.items() if v is not None})

    def arm(self, scenario: str, count: int = 1) -> Dict[str, Any]:
        """The next ``count`` creates that select no scenario get ``scenario`` (``POST /_mock/arm``)."""
        return self._call("POST", "/_mock/arm", body={"scenario": scenario, "count": count})

    def journal(self, validation_id: Optional[str] = None, kind: Optional[str] = None,
                limit: Optional[int] = None) -> List[Dict[str, Any]]:
        """Recent requests, oldest first (``GET /_mock/journal``); ``kind="create,poll"``
        keeps only what a backend sent."""
        query = {"validation_id": validation_id, "kind": kind,
                 "limit": None if limit is None else str(limit)}
        result = self._call("GET", "/_mock/journal",
                            query={k: v for k, v in query.items() if v is not None})
        return list(result["entries"])

    def validation(self, validation_id: str) -> Dict[str, Any]:
        """One validation as the mock sees it: scenario, phase, timeline and its requests."""
        return self._call("GET", f"/_mock/validations/{_quote(validation_id)}")

    def reset(self) -> None:
        """Forgets every validation, journal entry and armed scenario (``POST /_mock/reset``)."""
        self._call("POST", "/_mock/reset")

    def metrics(self) -> str:
        """The Prometheus text of ``GET /_mock/metrics``."""
        return self._request("GET", "/_mock/metrics", None, None).decode()

    # -- life cycle -----------------------------------------------------------------------

    def stop(self) -> None:
        """Stops the server (SIGTERM, then SIGKILL after 5 s)."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._stderr.close()
        self._finalizer.detach()

    def __enter__(self) -> "MockServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"MockServer(url={self.url!r})"

    # -- plumbing -------------------------------------------------------------------------

    def _call(self, method: str, path: str, query: Optional[Dict[str, str]] = None,
              body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        raw = self._request(method, path, query, body)
        # Every control endpoint answers a JSON object.
        result: Dict[str, Any] = json.loads(raw) if raw else {}
        return result

    def _request(self, method: str, path: str, query: Optional[Dict[str, str]],
                 body: Optional[Dict[str, Any]]) -> bytes:
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        if body is not None:
            data: Optional[bytes] = json.dumps(body).encode()
        else:
            data = b"" if method == "POST" else None
        req = urllib.request.Request(url, data=data, method=method)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        if self.admin_token is not None:
            req.add_header("Authorization", f"Bearer {self.admin_token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return bytes(resp.read())
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors="replace")
            try:
                parsed: Any = json.loads(text)
                message = parsed.get("message", text)
            except ValueError:
                parsed, message = text, text
            raise MockError(f"{method} {path} answered {e.code}: {message}", e.code, parsed) from None


def _quote(part: str) -> str:
    return urllib.parse.quote(part, safe="")


def _first_line(process: "subprocess.Popen[bytes]", timeout: float) -> str:
    """The first stdout line, or MockError if none comes within ``timeout`` or it exits."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    with selectors.DefaultSelector() as sel:
        sel.register(process.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise MockError("timed out")
            chunk = os.read(process.stdout.fileno(), 1)
            if not chunk:
                raise MockError("exited")
            line += chunk
    return line.decode().strip()
