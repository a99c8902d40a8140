"""The throughput ceiling: a bare Litestar endpoint, served by uvicorn exactly as the app is.

Whatever our endpoints do on top (routing to a controller, a database, templates) costs
requests/s relative to this, on the same machine, with the same server and load tool.
"""

from litestar import Litestar, get


@get("/", sync_to_thread=False)
def hello() -> dict[str, str]:
    return {"hello": "world"}


app = Litestar(route_handlers=[hello])
