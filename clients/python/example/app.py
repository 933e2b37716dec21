"""A small integrator backend: it starts an identity check and tells the user where it stands."""

from __future__ import annotations

import os
from typing import Any, Dict, Optional, Tuple

from flask import Flask, jsonify, request

from truora_client import TruoraClient, TruoraError

MESSAGES = {
    "similarity_threshold_not_passed": "The selfie does not match the ID photo.",
    "identity_belongs_to_dead_person": "This ID belongs to a deceased person.",
}


def create_app(client: Optional[TruoraClient] = None) -> Flask:
    app = Flask(__name__)
    truora = client or TruoraClient(
        os.environ.get("TRUORA_URL", "https://api.validations.truora.com"),
        os.environ["TRUORA_API_KEY"],
    )

    @app.post("/checks")
    def start_check() -> Tuple[Any, int]:
        user_id = (request.get_json(silent=True) or {}).get("user_id")
        if not user_id:
            return jsonify(error="user_id is required"), 400
        try:
            validation_id = truora.create(str(user_id))
        except TruoraError as e:
            return jsonify(error="identity provider unavailable", status=e.status), 502
        return jsonify(check_id=validation_id), 201

    @app.get("/checks/<check_id>")
    def check_state(check_id: str) -> Tuple[Any, int]:
        try:
            v = truora.get(check_id)
        except TruoraError as e:
            return jsonify(error="identity provider unavailable", status=e.status), 502
        answer: Dict[str, Any] = {"check_id": v.validation_id}
        if v.status == "pending":
            answer["state"] = "in_progress"
        elif v.status == "success":
            answer["state"] = "approved"
        elif v.failure_status == "declined":
            answer["state"] = "rejected"
            answer["reason"] = MESSAGES.get(v.declined_reason or "", "The check was declined.")
        else:
            answer["state"] = "retry"
        return jsonify(answer), 200

    return app


if __name__ == "__main__":
    create_app().run()
