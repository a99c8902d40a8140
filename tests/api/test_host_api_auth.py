"""Host API keys: Bearer auth, 401s, the cal-api-version header, GET /v2/me."""

from __future__ import annotations

import host_api_support

# The shared fixtures (API keys of the demo host and of a second host).
demo_headers = host_api_support.demo_headers
other_headers = host_api_support.other_headers


def test_missing_key_is_401_with_the_v2_error_shape(client):
    response = client.get("/v2/me")
    assert response.status_code == 401
    assert response.json()["status"] == "error"
    assert "Bearer" in response.json()["message"]
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_wrong_keys_are_401(client, demo_headers):
    key = demo_headers["Authorization"].split()[1]
    for value in ("Bearer bk_not-a-key", "Bearer cal_live_123", f"Basic {key}", key, "Bearer "):
        response = client.get("/v2/event-types", headers={"Authorization": value})
        assert response.status_code == 401, value
        body = response.json()
        assert body["status"] == "error" and body["message"] == body["error"]["message"]
        assert body["error"]["code"] == "UnauthorizedException"
        assert body["path"] == "/v2/event-types"


def test_bearer_scheme_is_case_insensitive_and_api_version_is_ignored(client, demo_headers):
    key = demo_headers["Authorization"].split()[1]
    for version in ("2024-08-13", "2024-06-14", "whatever"):
        headers = {"Authorization": f"bearer {key}", "cal-api-version": version}
        assert client.get("/v2/me", headers=headers).status_code == 200


def test_me_describes_the_keys_host(client, demo_headers, other_headers):
    me = client.get("/v2/me", headers=demo_headers).json()
    assert me["status"] == "success"
    data = me["data"]
    assert data["username"] == "demo"
    assert data["email"] == "demo@example.com"
    assert data["name"] == "Dana Demo"
    assert data["timeZone"] == "Europe/Berlin"
    assert isinstance(data["id"], int)
    assert isinstance(data["defaultScheduleId"], int)
    assert client.get("/v2/me", headers=other_headers).json()["data"]["username"] == "other"


def test_openapi_declares_the_bearer_scheme_on_host_routes(client):
    schema = client.get("/schema/openapi.json").json()
    assert schema["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["apiKey"]["description"],
    }
    assert schema["paths"]["/v2/bookings"]["get"]["security"] == [{"apiKey": []}]
    # Public as on Cal.com: the key is optional ({} is "no security").
    assert schema["paths"]["/v2/bookings"]["post"]["security"] == [{"apiKey": []}, {}]
    assert schema["paths"]["/v2/slots"]["get"]["security"] == [{"apiKey": []}, {}]
    assert "security" not in schema["paths"]["/api/public/scheduling/{user_slug}"]["get"]
    errors = schema["paths"]["/v2/event-types/{event_type_id}"]["get"]["responses"]
    assert {"400", "401", "404"} <= set(errors)
