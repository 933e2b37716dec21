"""Makes `app` and `truora_client` importable in the tests (pytest puts a conftest's directory
on sys.path); the `truidentidad_mock` fixtures come from the installed plugin."""
