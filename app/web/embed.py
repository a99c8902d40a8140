"""``GET /embed.js``: the script third-party sites include to show the booking widget.

The file is read once (it only changes with a deploy). It is served to any origin: a ``<script>``
tag needs no CORS, and ``Cross-Origin-Resource-Policy: cross-origin`` lets pages that require
COEP load it too. The URL is not versioned, so caching is short and revalidated by ETag; the app's
gzip config compresses it. Its few words are filled in from the catalogs, all languages at once,
so one cached script serves every page.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from litestar import Request, Response, get

from app.i18n import SUPPORTED, lazy_gettext, use_locale
from app.settings import EMBED_DIR

EMBED_JS = EMBED_DIR / "embed.js"
CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"


# The few words the script shows itself (its button, its close button, a frame that failed),
# from the catalogs in every language we ship; the script picks the page's language.
WORDS = {
    "book": lazy_gettext("Book a time"),
    "close": lazy_gettext("Close"),
    "failed": lazy_gettext("The booking calendar could not be loaded here."),
    "newTab": lazy_gettext("Open it in a new tab"),
}


def words() -> str:
    table = {}
    for language in SUPPORTED:
        with use_locale(language):
            table[language] = {key: str(text) for key, text in WORDS.items()}
    return json.dumps(table, ensure_ascii=False, separators=(",", ":"))[1:-1]


@lru_cache(maxsize=1)
def embed_script() -> tuple[bytes, str]:
    """The script (with its words filled in) and its ETag."""
    body = EMBED_JS.read_text().replace("/*TEXT*/", words()).encode()
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
