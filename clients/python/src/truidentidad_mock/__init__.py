"""Start a truidentidad-mock server from Python tests and steer it.

The package holds no server: it runs the ``truidentidad-mock`` binary (on ``PATH``, or named
by the ``TRUIDENTIDAD_MOCK_BIN`` environment variable) on a free loopback port and talks to
its control API under ``/_mock/``. With pytest it is a plugin: the ``truidentidad_mock``
fixture gives each test a fresh server, ``truidentidad_mock_session`` one server for the
whole session.

>>> from truidentidad_mock import MockServer
>>> with MockServer.start() as mock:                       # doctest: +SKIP
...     requests.post(f"{mock.url}/v1/validations",
...                   headers={"Truora-API-Key": mock.api_key},
...                   data={"type": "government", "account_id": "declined-deceased.u1"})
"""

from ._server import MockError, MockServer, __version__, binary_version, find_binary

__all__ = ["MockError", "MockServer", "__version__", "binary_version", "find_binary"]
