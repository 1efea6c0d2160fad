"""The Author HTTP API over each real database, with real tokens and its role checks."""

from __future__ import annotations

import httpx
import pytest

from tests.issuer import TestIssuer


@pytest.fixture
def client(client: httpx.AsyncClient, issuer: TestIssuer) -> httpx.AsyncClient:
    """The app's client, authenticated as a user who may do everything."""
    client.headers["Authorization"] = f"Bearer {issuer.token('root', ['editor', 'admin'])}"
    return client


async def create(client: httpx.AsyncClient, name: str) -> dict[str, object]:
    response = await client.post("/authors", json={"name": name})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_create_then_get(client: httpx.AsyncClient) -> None:
    created = await create(client, "Ada Lovelace")
    assert created["name"] == "Ada Lovelace"
    assert isinstance(created["id"], int)
    response = await client.get(f"/authors/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 256}, {"name": "Eve", "id": 1}, {"name": "Eve", "role": "x"}],
    ids=["missing-name", "empty-name", "too-long", "client-chosen-id", "unknown-field"],
)
async def test_create_rejects_bad_bodies(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    response = await client.post("/authors", json=body)
    assert response.status_code == 422
    assert (await client.get("/authors")).json()["total"] == 0


async def test_missing_author_is_404_everywhere(client: httpx.AsyncClient) -> None:
    assert (await client.get("/authors/999")).status_code == 404
    assert (await client.patch("/authors/999", json={"name": "x"})).status_code == 404
    response = await client.delete("/authors/999")
    assert response.status_code == 404
    assert response.json() == {"detail": "Author 999 not found"}


async def test_list_paginates_in_id_order(client: httpx.AsyncClient) -> None:
    names = [f"author {i}" for i in range(5)]
    for name in names:
        await create(client, name)
    response = await client.get("/authors", params={"page": 2, "per_page": 2})
    assert response.status_code == 200
    body = response.json()
    assert [a["name"] for a in body["items"]] == names[2:4]
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (2, 2, 5, 3)
    last = (await client.get("/authors", params={"page": 3, "per_page": 2})).json()
    assert [a["name"] for a in last["items"]] == names[4:]


async def test_list_filters_by_name(client: httpx.AsyncClient) -> None:
    await create(client, "Ada")
    await create(client, "Grace")
    await create(client, "Ada")
    body = (await client.get("/authors", params={"name": "Ada"})).json()
    assert [a["name"] for a in body["items"]] == ["Ada", "Ada"]
    assert body["total"] == 2
    assert (await client.get("/authors", params={"name": "Nobody"})).json()["items"] == []


@pytest.mark.parametrize("params", [{"page": 0}, {"per_page": 0}, {"per_page": 101}, {"page": "x"}])
async def test_list_rejects_bad_pagination(
    client: httpx.AsyncClient, params: dict[str, int | str]
) -> None:
    assert (await client.get("/authors", params=params)).status_code == 422


async def test_patch_changes_name_only(client: httpx.AsyncClient) -> None:
    created = await create(client, "Old")
    response = await client.patch(f"/authors/{created['id']}", json={"name": "New"})
    assert response.status_code == 200
    assert response.json() == {"id": created["id"], "name": "New"}
    assert (await client.get(f"/authors/{created['id']}")).json()["name"] == "New"
    unchanged = await client.patch(f"/authors/{created['id']}", json={})
    assert unchanged.status_code == 200
    assert unchanged.json()["name"] == "New"


@pytest.mark.parametrize(
    "body", [{"name": None}, {"name": ""}, {"id": 5}, {"name": "x", "extra": 1}]
)
async def test_patch_rejects_bad_bodies(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    created = await create(client, "Stable")
    response = await client.patch(f"/authors/{created['id']}", json=body)
    assert response.status_code == 422
    assert (await client.get(f"/authors/{created['id']}")).json() == created


async def test_delete(client: httpx.AsyncClient) -> None:
    created = await create(client, "Gone")
    response = await client.delete(f"/authors/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/authors/{created['id']}")).status_code == 404


ROUTES = [
    ("GET", "/authors", None),
    ("GET", "/authors/{id}", None),
    ("POST", "/authors", {"name": "RBAC"}),
    ("PATCH", "/authors/{id}", {"name": "RBAC"}),
    ("DELETE", "/authors/{id}", None),
]
# Which route each role set may use: reads need a valid token, writes "editor", deletes "admin".
ALLOWED = {
    (): {"GET"},
    ("editor",): {"GET", "POST", "PATCH"},
    ("admin",): {"GET", "DELETE"},
    ("editor", "admin"): {"GET", "POST", "PATCH", "DELETE"},
}


@pytest.mark.parametrize("roles", list(ALLOWED), ids=lambda r: "+".join(r) or "no-roles")
@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=lambda v: str(v))
async def test_role_matrix(
    client: httpx.AsyncClient,
    issuer: TestIssuer,
    roles: tuple[str, ...],
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    author = await create(client, "Target")
    url = path.format(id=author["id"])
    token = issuer.token("someone", roles)
    response = await client.request(
        method, url, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    if method in ALLOWED[roles]:
        assert response.status_code in {200, 201, 204}, response.text
    else:
        assert response.status_code == 403
        assert "missing role" in response.json()["detail"]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=lambda v: str(v))
async def test_every_route_needs_a_token(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, str] | None
) -> None:
    author = await create(client, "Target")
    response = await client.request(
        method, path.format(id=author["id"]), json=body, headers={"Authorization": ""}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_client_roles_count_like_realm_roles(
    client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    token = issuer.token("svc", client_roles=["editor"])
    response = await client.post(
        "/authors", json={"name": "Via client role"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201
