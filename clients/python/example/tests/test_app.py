"""The example backend against the mock, through the pytest plugin's fixtures."""

from __future__ import annotations

from typing import Any, List

import pytest
from flask.testing import FlaskClient

from app import create_app
from truidentidad_mock import MockServer
from truora_client import TruoraClient


@pytest.fixture
def slept() -> List[float]:
    return []


@pytest.fixture
def client(truidentidad_mock: MockServer, slept: List[float]) -> FlaskClient:
    truora = TruoraClient(truidentidad_mock.url, truidentidad_mock.api_key, sleep=slept.append)
    return create_app(truora).test_client()


def start(client: FlaskClient, user_id: str) -> str:
    r = client.post("/checks", json={"user_id": user_id})
    assert r.status_code == 201, r.get_json()
    return str(r.get_json()["check_id"])


def state(client: FlaskClient, check_id: str) -> Any:
    r = client.get(f"/checks/{check_id}")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_approved_after_truora_finishes(client: FlaskClient, truidentidad_mock: MockServer) -> None:
    check = start(client, "user-1")
    assert state(client, check)["state"] == "in_progress"
    truidentidad_mock.advance(10)
    assert state(client, check)["state"] == "approved"


def test_a_declined_user_is_told_why(client: FlaskClient, truidentidad_mock: MockServer) -> None:
    truidentidad_mock.arm("declined-face-mismatch")
    check = start(client, "user-2")
    truidentidad_mock.advance(60)
    assert state(client, check) == {
        "check_id": check,
        "state": "rejected",
        "reason": "The selfie does not match the ID photo.",
    }


def test_forced_outcome(client: FlaskClient, truidentidad_mock: MockServer) -> None:
    check = start(client, "user-3")
    truidentidad_mock.complete(check, "failure", failure_status="declined", declined_reason="identity_belongs_to_dead_person")
    assert state(client, check)["reason"] == "This ID belongs to a deceased person."


def test_outages_are_retried(client: FlaskClient, truidentidad_mock: MockServer,
                             slept: List[float]) -> None:
    # The first two polls answer 503 and 500; the client retries without the user noticing.
    check = start(client, "flaky-5xx-then-success.user-4")
    assert state(client, check)["state"] == "in_progress"
    assert len(slept) == 2
    polls = truidentidad_mock.journal(validation_id=check, kind="poll")
    assert [p["status"] for p in polls] == [503, 500, 200]


def test_what_the_backend_sent(client: FlaskClient, truidentidad_mock: MockServer) -> None:
    check = start(client, "user-5")
    create = truidentidad_mock.journal(kind="create")[0]
    assert create["validation_id"] == check
    assert create["api_key"] == "accepted"
    assert ["type", "government"] in create["form"]
    assert ["account_id", "user-5"] in create["form"]
    assert truidentidad_mock.validation(check)["account_id"] == "user-5"
