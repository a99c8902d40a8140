"""Property-based run of the public and host APIs against their own OpenAPI document.

Schemathesis generates requests for every operation under /api and /v2, valid and invalid ones,
and sends them in-process to the ASGI app with a valid host API key. No answer may be a 5xx, and
every documented answer must match its documented schema (the error shapes included).

(``schemathesis.pytest.from_fixture`` does not work with pytest 9, so one test walks the
operations itself and reports every operation that failed.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

from app.hosts.service import create_api_key
from app.main import create_app
from support import make_settings, prepare_database, with_session

EXAMPLES_PER_OPERATION = 20


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    app_settings = make_settings(tmp_path_factory.mktemp("schemathesis"))
    prepare_database(app_settings.database_url)
    key = with_session(app_settings.database_url, lambda s: create_api_key(s, "demo"))
    yield {"app": create_app(app_settings), "key": key}


def check_operation(operation: Any, key: str, checks: list[Any]) -> None:
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {key}"},
            checks=checks,
        )

    run()


def test_no_server_errors_and_answers_match_the_schema(api: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", api["app"])
    schema = schema.include(path_regex=r"^/(api|v2)/")
    failures: list[str] = []
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)
        try:
            check_operation(
                operation, api["key"], [not_a_server_error, response_schema_conformance]
            )
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label}: {exc}")
    assert len(labels) >= 20, labels
    assert not failures, "\n\n".join(failures)
