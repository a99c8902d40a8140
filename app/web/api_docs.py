"""``/schema``: the API documentation page, served whole from ``static/`` (it works offline).

Litestar's own render plugins write an inline ``<script>`` (and ``<style>``) and load their UI
from a CDN: our Content-Security-Policy (``script-src 'self'``, no inline code) blocks all of
that, and a server without internet could not fetch it anyway. This page is Swagger UI, vendored
under ``static/`` (``swagger-ui-<version>-bundle.js`` and ``.css``, from npm's
``swagger-ui-dist``), started by ``static/api-docs.js``, which reads the address of the OpenAPI
document from the page. Nothing else is loaded: no fonts, no favicon, no validator badge.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

SWAGGER_UI_VERSION = "5.36.0"
SWAGGER_UI_JS = f"/static/swagger-ui-{SWAGGER_UI_VERSION}-bundle.js"
SWAGGER_UI_CSS = f"/static/swagger-ui-{SWAGGER_UI_VERSION}.css"
STARTER_JS = "/static/api-docs.js"
PAGE_CSS = "/static/api-docs.css"


class OfflineSwaggerPlugin(OpenAPIRenderPlugin):
    """Swagger UI from our own ``/static``, at ``/schema`` and ``/schema/swagger``."""

    def __init__(self, path: str | list[str] | None = None) -> None:
        super().__init__(path=path or ["/", "/swagger"], favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema.get("info", {}).get("title", "API")))
        spec_url = escape(self.get_openapi_json_route(request))
        return (
            "<!doctype html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n"
            f'<link rel="stylesheet" href="{SWAGGER_UI_CSS}">\n'
            f'<link rel="stylesheet" href="{PAGE_CSS}">\n'
            f'<script src="{SWAGGER_UI_JS}" defer></script>\n'
            f'<script src="{STARTER_JS}" defer></script>\n'
            "</head>\n<body>\n"
            f'<main id="swagger-ui" data-spec-url="{spec_url}">'
            f"<noscript><p>This page needs JavaScript. The API document itself is at "
            f'<a href="{spec_url}">{spec_url}</a>.</p></noscript></main>\n'
            "</body>\n</html>\n"
        ).encode()
