"""``GET /embed.js``: the script third-party sites include to show the booking widget.

The file is read once (it only changes with a deploy). It is served to any origin: a ``<script>``
tag needs no CORS, and ``Cross-Origin-Resource-Policy: cross-origin`` lets pages that require
COEP load it too. The URL is not versioned, so caching is short and revalidated by ETag; the app's
gzip config compresses it.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from litestar import Request, Response, get

from app.settings import EMBED_DIR

EMBED_JS = EMBED_DIR / "embed.js"
CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"


@lru_cache(maxsize=1)
def embed_script() -> tuple[bytes, str]:
    """The script and its ETag."""
    body = EMBED_JS.read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@get("/embed.js", include_in_schema=False, sync_to_thread=False)
def embed_js(request: Request[Any, Any, Any]) -> Response[bytes]:
    body, etag = embed_script()
    headers = {
        "Cache-Control": CACHE_CONTROL,
        "ETag": etag,
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(b"", status_code=304, headers=headers)
    return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)
