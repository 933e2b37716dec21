"""The plugin's fixtures and every handle method, against the real binary."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict

import pytest

from truidentidad_mock import MockError, MockServer, __version__, binary_version, find_binary


def create(mock: MockServer, account_id: str) -> str:
    data = urllib.parse.urlencode({"type": "government", "account_id": account_id}).encode()
    req = urllib.request.Request(f"{mock.url}/v1/validations", data=data,
                                 headers={"Truora-API-Key": mock.api_key})
    with urllib.request.urlopen(req, timeout=10) as r:
        return str(json.load(r)["validation_id"])


def poll(mock: MockServer, validation_id: str) -> Dict[str, Any]:
    req = urllib.request.Request(f"{mock.url}/v1/validations/{validation_id}",
                                 headers={"Truora-API-Key": mock.api_key})
    with urllib.request.urlopen(req, timeout=10) as r:
        result: Dict[str, Any] = json.load(r)
        return result


def test_time_moves_only_when_advanced(truidentidad_mock: MockServer) -> None:
    vid = create(truidentidad_mock, "declined-deceased.u1")
    assert poll(truidentidad_mock, vid)["validation_status"] == "pending"
    clock = truidentidad_mock.advance(60)
    assert clock["mode"] == "manual" and clock["now_seconds"] == 60
    assert poll(truidentidad_mock, vid)["failure_status"] == "declined"


def test_complete_arm_validation_journal_reset(truidentidad_mock: MockServer) -> None:
    mock = truidentidad_mock
    vid = create(mock, "u2")
    done = mock.complete(vid, "failure", failure_status="declined", declined_reason="identity_belongs_to_dead_person")
    assert done["declined_reason"] == "identity_belongs_to_dead_person"
    with pytest.raises(MockError) as e:
        mock.complete(vid)
    assert e.value.status == 409 and "already finished" in str(e.value)

    assert mock.arm("never-completes", 2)["armed"] == 2
    armed = create(mock, "u3")
    assert mock.validation(armed)["scenario"] == "never-completes"

    kinds = [(e["kind"], e["status"]) for e in mock.journal(kind="create,poll")]
    assert kinds == [("create", 200), ("create", 200)]
    assert [e["validation_id"] for e in mock.journal(validation_id=armed, kind="create")] == [armed]

    assert 'truidentidad_mock_requests_total{kind="create",status="200"} 2' in mock.metrics()
    mock.reset()
    with pytest.raises(MockError) as e:
        mock.validation(vid)
    assert e.value.status == 404


def test_session_fixture_is_shared(truidentidad_mock_session: MockServer,
                                   request: pytest.FixtureRequest) -> None:
    again = request.getfixturevalue("truidentidad_mock_session")
    assert again is truidentidad_mock_session
    assert truidentidad_mock_session.url.startswith("http://127.0.0.1:")


def test_a_wrong_key_is_refused(truidentidad_mock: MockServer) -> None:
    req = urllib.request.Request(f"{truidentidad_mock.url}/v1/validations/VLD0",
                                 headers={"Truora-API-Key": "not-the-key"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 401


def test_admin_token_is_sent() -> None:
    with MockServer.start(admin_token="t0ken") as mock:
        assert mock.advance(1)["now_seconds"] == 1


def test_missing_binary_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUIDENTIDAD_MOCK_BIN", "/nonexistent/truidentidad-mock")
    with pytest.raises(MockError, match="not an executable file"):
        find_binary()


def test_a_bad_flag_reports_the_servers_message() -> None:
    with pytest.raises(MockError, match="did not start") as e:
        MockServer.start(args=["--no-such-flag"])
    assert "--no-such-flag" in str(e.value)


def test_a_server_never_stopped_does_not_outlive_the_interpreter() -> None:
    # A script that starts a server and ends without stop(), as a test that fails first does.
    script = "from truidentidad_mock import MockServer; print(MockServer.start().url)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=30, check=True)
    url = done.stdout.strip()
    assert url.startswith("http://127.0.0.1:")
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{url}/_mock/health", timeout=5)


def fake_binary(tmp_path: Any, version_line: str) -> str:
    """An executable that answers ``--version`` as a binary of another release would."""
    path = tmp_path / "truidentidad-mock"
    path.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    path.chmod(0o755)
    return str(path)


def test_a_binary_of_another_version_is_refused_with_what_to_do(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRUIDENTIDAD_MOCK_SKIP_VERSION_CHECK", raising=False)
    binary = fake_binary(tmp_path, "truidentidad-mock 9.9.9 (commit 0123456789ab)")
    with pytest.raises(MockError) as e:
        MockServer.start(binary)
    assert str(e.value) == (
        f"{binary} is truidentidad-mock 9.9.9 (commit 0123456789ab), but the truidentidad-mock "
        f"Python package is {__version__}; the two must match. Either install the matching "
        "package (pip install truidentidad-mock==9.9.9), or use the binary this package brings "
        f"(pip install --force-reinstall truidentidad-mock=={__version__}, and unset "
        "TRUIDENTIDAD_MOCK_BIN if it points at another build). To start it anyway, set "
        "TRUIDENTIDAD_MOCK_SKIP_VERSION_CHECK=1."
    )


def test_the_binary_started_reports_this_packages_version() -> None:
    assert binary_version(find_binary()).split(" ")[0] == __version__
