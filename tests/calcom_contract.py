"""Every ``/v2`` answer the suite produces is checked against Cal.com's own OpenAPI document.

The document (``calcom-openapi.json``, Cal.com's ``docs/api-reference/v2/openapi.json``) is the
contract of the host API. This plugin wraps httpx's ``send`` (the in-process ``TestClient`` and
the live-server tests both use httpx), and checks every answer to a ``/v2`` path:

- the operation must be one the document has (we invent no ``/v2`` operation);
- a success must carry one of the operation's documented status codes, and its body must match
  the documented schema ($refs resolved; OpenAPI 3.0's ``nullable`` understood);
- an error (4xx, 503) must have both error shapes: seed 004's ``{"status": "error", "message"}``
  and Cal.com's ``timestamp``, ``path``, ``error: {code, message, details}`` (the document
  describes no error bodies; this is the shape Cal.com's API sends, see its exception filters).

A test whose answers do not match fails at its teardown, listing every mismatch. Where the
document itself is wrong, tests/calcom_corrections.py corrects it, each fix with its reason.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from calcom_corrections import correct

DOCUMENT = Path(__file__).resolve().parent / "calcom-openapi.json"
METHODS = ("get", "post", "patch", "put", "delete")

# Cal.com's error answers (its HttpExceptionFilter and friends), plus seed 004's "message".
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "message", "timestamp", "path", "error"],
    "properties": {
        "status": {"const": "error"},
        "message": {"type": "string", "minLength": 1},
        "timestamp": {"type": "string", "format": "date-time"},
        "path": {"type": "string"},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "minLength": 1},
                "message": {"type": "string", "minLength": 1},
                "details": {},
            },
        },
    },
}


@cache
def document() -> dict[str, Any]:
    raw = json.loads(DOCUMENT.read_text())
    CORRECTIONS.extend(correct(raw))
    return raw


CORRECTIONS: list[str] = []


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: ``nullable: true`` admits null."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    regex: re.Pattern[str]
    literal_parts: int


@cache
def operations() -> list[Operation]:
    found = []
    for template, item in document()["paths"].items():
        if not template.startswith("/v2/"):
            continue
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        literal = len([p for p in template.split("/") if p and not p.startswith("{")])
        for method in item:
            if method in METHODS:
                found.append(Operation(method, template, re.compile(f"^{pattern}/?$"), literal))
    # Literal segments first: /v2/schedules/default before /v2/schedules/{scheduleId}.
    return sorted(found, key=lambda op: -op.literal_parts)


def find_operation(method: str, path: str) -> Operation | None:
    for operation in operations():
        if operation.method == method and operation.regex.match(path):
            return operation
    return None


@cache
def _validator(schema_json: str) -> Any:
    root = json.loads(schema_json)
    root["components"] = _json_schema(document()["components"])
    return jsonschema_rs.Draft4Validator(root)


def _response_schema(operation: Operation, status: int) -> dict[str, Any] | None:
    responses = document()["paths"][operation.template][operation.method]["responses"]
    response = responses.get(str(status))
    if response is None:
        return None
    content = response.get("content", {}).get("application/json", {})
    return _json_schema(content.get("schema", {}))


def problems(method: str, path: str, status: int, body: bytes) -> list[str]:
    """What is wrong with one answer (empty when it matches the document)."""
    method = method.lower()
    where = f"{method.upper()} {path} -> {status}"
    if method not in METHODS:
        return []
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return [f"{where}: the body is not JSON"]
    operation = find_operation(method, path)
    if status >= 400:
        if status >= 500 and status != 503:
            return [f"{where}: a server error"]
        schema: dict[str, Any] | None = ERROR_SCHEMA
    else:
        if operation is None:
            return [f"{where}: no such operation in Cal.com's document"]
        schema = _response_schema(operation, status)
        if schema is None:
            responses = document()["paths"][operation.template][operation.method]["responses"]
            return [f"{where}: undocumented status (documented: {', '.join(responses)})"]
    validator = _validator(json.dumps(schema))
    found = [leaf for error in validator.iter_errors(data) for leaf in _leaves(error)]
    return [f"{where}: {message}" for message in dict.fromkeys(found)][:20]


def _leaves(error: Any) -> list[str]:
    """The error, or for a failed oneOf/anyOf the errors of the branch that came closest."""
    branches = getattr(error.kind, "context", None)
    if branches:
        closest = min(branches, key=len)
        return [leaf for inner in closest for leaf in _leaves(inner)]
    where = "/" + "/".join(map(str, error.instance_path))
    message = error.message if len(error.message) < 300 else error.message[:300] + "…"
    return [f"{message} at {where}"]


@dataclass
class Recorder:
    mismatches: list[str]
    checked: int = 0

    def check(self, request: httpx.Request, response: httpx.Response) -> None:
        path = request.url.path
        if not (path == "/v2" or path.startswith("/v2/")):
            return
        self.checked += 1
        self.mismatches += problems(request.method, path, response.status_code, response.content)


_current: list[Recorder] = []


def _record(request: httpx.Request, response: httpx.Response) -> None:
    if _current and not response.is_stream_consumed:
        response.read()
    if _current:
        _current[-1].check(request, response)


@pytest.fixture(scope="session", autouse=True)
def _wrap_httpx() -> Iterator[None]:
    sync_send, async_send = httpx.Client.send, httpx.AsyncClient.send

    def send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = sync_send(self, request, **kwargs)
        if not kwargs.get("stream"):
            _record(request, response)
        return response

    async def asend(
        self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any
    ) -> httpx.Response:
        response = await async_send(self, request, **kwargs)
        if not kwargs.get("stream"):
            if _current and not response.is_stream_consumed:
                await response.aread()
            _record(request, response)
        return response

    httpx.Client.send = send  # type: ignore[method-assign]
    httpx.AsyncClient.send = asend  # type: ignore[method-assign]
    try:
        yield
    finally:
        httpx.Client.send = sync_send  # type: ignore[method-assign]
        httpx.AsyncClient.send = async_send  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def calcom_contract(_wrap_httpx: None) -> Iterator[Recorder]:
    """Fails the test (at teardown) if any ``/v2`` answer it saw differs from the document."""
    recorder = Recorder(mismatches=[])
    _current.append(recorder)
    try:
        yield recorder
    finally:
        _current.remove(recorder)
    if recorder.mismatches:
        unique = list(dict.fromkeys(recorder.mismatches))
        pytest.fail(
            f"{len(unique)} answer(s) differ from Cal.com's OpenAPI document:\n"
            + "\n".join(unique[:60]),
            pytrace=False,
        )


def copy_of_document() -> dict[str, Any]:
    return copy.deepcopy(document())
