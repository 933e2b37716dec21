"""The integrator's own TruIdentidad client: what a backend would write against Truora's API.

Nothing here knows about the mock; tests point ``base_url`` at it instead of
https://api.validations.truora.com.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional


class TruoraError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Truora answered {status}: {message}")
        self.status = status


@dataclass
class Validation:
    validation_id: str
    status: str
    failure_status: Optional[str] = None
    declined_reason: Optional[str] = None


class TruoraClient:
    """Creates TruIdentidad validations and reads their state, retrying 429 and 5xx."""

    def __init__(self, base_url: str, api_key: str, retries: int = 3,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.retries = retries
        self.sleep = sleep

    def create(self, account_id: str) -> str:
        form = {"type": "government", "country": "CO", "account_id": account_id}
        body = self._send("POST", "/v1/validations", urllib.parse.urlencode(form).encode())
        return str(body["validation_id"])

    def get(self, validation_id: str) -> Validation:
        body = self._send("GET", f"/v1/validations/{urllib.parse.quote(validation_id)}", None)
        return Validation(
            validation_id=body["validation_id"],
            status=body["validation_status"],
            failure_status=body.get("failure_status"),
            declined_reason=body.get("declined_reason"),
        )

    def _send(self, method: str, path: str, data: Optional[bytes]) -> Dict[str, Any]:
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={"Truora-API-Key": self.api_key})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    result: Dict[str, Any] = json.load(r)
                    return result
            except urllib.error.HTTPError as e:
                retryable = e.code == 429 or e.code >= 500
                if not retryable or attempt == self.retries:
                    raise TruoraError(e.code, e.read().decode(errors="replace")) from None
                self.sleep(float(e.headers.get("Retry-After", "1") or 1))
        raise AssertionError("unreachable")
