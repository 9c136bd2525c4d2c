from tests.conftest import Api


def test_create_then_get(api: Api) -> None:
    created = api.create(name="Acme")
    response = api.get(f"/api/v1/customers/{created['id']}")
    assert response.status_code == 200
    assert response.json()["data"] == created
