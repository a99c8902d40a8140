"""``/embed.js``: served as JavaScript to any site, cacheable, compressed, and kept small."""

from __future__ import annotations

import gzip
import re

from app.web.embed import EMBED_JS, embed_script

# Inline, popup and floating modes, the script API, a visible message when the frame fails, and
# its few words in ten languages (from the catalogs): still a fraction of one image.
MINIFIED_BUDGET = 9 * 1024
GZIP_BUDGET = 5 * 1024


def minify(source: str) -> str:
    """A crude minifier: no comments, no whitespace that punctuation makes useless.

    Enough to hold a size budget; string literals (double-quoted in embed.js) are left alone.
    """
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    source = re.sub(r"//[^\n]*", "", source)
    parts = re.split(r'("(?:\\.|[^"\\])*")', source)
    for i in range(0, len(parts), 2):
        code = re.sub(r"\s+", " ", parts[i])
        parts[i] = re.sub(r" ?([{}()\[\];,:=+<>!&|?.]) ?", r"\1", code)
    return "".join(parts).strip()


def test_embed_js_is_served_as_javascript_to_any_site(client):
    response = client.get("/embed.js", headers={"Origin": "https://shop.example"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.content == embed_script()[0]
    assert "max-age=" in response.headers["cache-control"]
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers.get("access-control-allow-origin") in ("*", "https://shop.example")


def test_embed_js_revalidates_with_its_etag(client):
    etag = client.get("/embed.js").headers["etag"]
    again = client.get("/embed.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get("/embed.js", headers={"If-None-Match": '"other"'}).status_code == 200


def test_embed_js_is_gzipped_when_the_client_accepts_it(client):
    response = client.get("/embed.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == embed_script()[0]  # httpx decodes it


def test_embed_js_stays_within_its_size_budget():
    source = embed_script()[0].decode()
    assert "/*TEXT*/" in EMBED_JS.read_text() and '"de":{"book":' in source
    minified = minify(source)
    assert "BookingWidget" in minified and "/*" not in minified
    assert len(minified.encode()) < MINIFIED_BUDGET, len(minified.encode())
    assert len(gzip.compress(source.encode(), 9)) < GZIP_BUDGET


def test_the_crude_minifier_keeps_strings_and_drops_comments():
    code = 'var a = "x  ,  y"; // note\n/* block */ if (a) { b(a, 1); }'
    assert minify(code) == 'var a="x  ,  y";if(a){b(a,1);}'
