from tests.unit.oauth_app.conftest import obtain_code, person, public_client, register  # noqa: F401
