"""pytest plugin: the ``truidentidad_mock`` and ``truidentidad_mock_session`` fixtures.

Installed with the package (entry point ``pytest11``), so nothing needs importing::

    def test_declined_user_is_told_why(truidentidad_mock):
        app = make_app(truora_url=truidentidad_mock.url, api_key=truidentidad_mock.api_key)
        ...

- ``truidentidad_mock``: a fresh server per test (its own store, journal and clock).
- ``truidentidad_mock_session``: one server for the session; call ``.reset()`` between tests
  if they must not see each other's validations.
- ``truidentidad_mock_args``: extra ``serve`` flags for both; override it in a conftest.py
  (session scope), e.g. ``return ["--scenarios", "tests/my-scenarios.toml"]``.

The binary comes from ``--truidentidad-mock-bin``, else ``$TRUIDENTIDAD_MOCK_BIN``, else PATH.
"""

from __future__ import annotations

from typing import Iterator, List, Optional

import pytest

from ._server import MockServer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--truidentidad-mock-bin",
        default=None,
        help="path of the truidentidad-mock binary (default: $TRUIDENTIDAD_MOCK_BIN, then PATH)",
    )


def _binary(config: pytest.Config) -> Optional[str]:
    value = config.getoption("--truidentidad-mock-bin")
    return str(value) if value else None


@pytest.fixture(scope="session")
def truidentidad_mock_args() -> List[str]:
    """Extra ``truidentidad-mock serve`` flags; override to load scenarios and the like."""
    return []


@pytest.fixture(scope="session")
def truidentidad_mock_session(
    pytestconfig: pytest.Config, truidentidad_mock_args: List[str]
) -> Iterator[MockServer]:
    """One mock server for the whole test session (manual clock, seed 42)."""
    with MockServer.start(_binary(pytestconfig), args=truidentidad_mock_args) as server:
        yield server


@pytest.fixture
def truidentidad_mock(
    pytestconfig: pytest.Config, truidentidad_mock_args: List[str]
) -> Iterator[MockServer]:
    """A fresh mock server for one test (manual clock, seed 42), stopped after it."""
    with MockServer.start(_binary(pytestconfig), args=truidentidad_mock_args) as server:
        yield server
