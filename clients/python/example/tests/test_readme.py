from app import create_app
from truora_client import TruoraClient


def test_a_declined_user_is_told_why(truidentidad_mock):
    truora = TruoraClient(truidentidad_mock.url, truidentidad_mock.api_key)
    app = create_app(truora).test_client()
    truidentidad_mock.arm("declined-deceased")
    check = app.post("/checks", json={"user_id": "u-1"}).get_json()["check_id"]
    truidentidad_mock.advance(60)
    assert app.get(f"/checks/{check}").get_json()["state"] == "rejected"
