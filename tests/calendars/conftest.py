"""Real CalDAV servers and an ICS feed server, started once per test process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from calendar_servers import DavServer, FeedStore, feed_server, radicale, xandikos


@pytest.fixture(scope="session")
def radicale_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DavServer]:
    with radicale(tmp_path_factory.mktemp("radicale")) as server:
        yield server


@pytest.fixture(scope="session")
def xandikos_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DavServer]:
    with xandikos(tmp_path_factory.mktemp("xandikos")) as server:
        yield server


@pytest.fixture(scope="session")
def feeds() -> Iterator[tuple[str, FeedStore]]:
    with feed_server() as served:
        yield served
