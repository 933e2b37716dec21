# test_truora.py: pip install truidentidad-mock, then pytest (no imports of the plugin needed)
import json
import urllib.request
from urllib.parse import urlencode


def call(mock, path, form=None):
    data = urlencode(form).encode() if form else None
    request = urllib.request.Request(mock.url + path, data=data,
                                     headers={"Truora-API-Key": mock.api_key})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def test_an_armed_decline_shows_once_time_moves(truidentidad_mock):
    truidentidad_mock.arm("declined-face-mismatch")
    created = call(truidentidad_mock, "/v1/validations",
                   {"type": "government", "account_id": "user-1"})
    path = "/v1/validations/" + created["validation_id"]
    assert call(truidentidad_mock, path)["validation_status"] == "pending"
    truidentidad_mock.advance(60)
    done = call(truidentidad_mock, path)
    assert done["validation_status"] == "failure"
    assert done["declined_reason"] == "similarity_threshold_not_passed"
