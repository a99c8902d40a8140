"""Translations: gettext catalogs (Babel) for every user-facing string, pages and emails.

The reader's language is held in a context variable for the duration of a request, an email or
any other piece of work (``use_locale``), so services, templates and emails all ask the same
place. Templates get ``_``/``gettext``/``ngettext`` through Jinja's i18n extension in its
"newstyle" form: ``{{ _("Hello %(name)s", name=guest) }}`` escapes ``guest`` and not the text.

Catalogs live in ``app/locales/<lang>/LC_MESSAGES/messages.po`` and are compiled to ``.mo``; a
language without a compiled catalog reads English, which is the source text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.support import LazyProxy, NullTranslations, Translations
from markupsafe import Markup

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
DEFAULT = "en"
# The languages we ship catalogs for (issue 12); the first is the source language.
SUPPORTED = ("en", "de", "es", "fr", "it", "nl", "pt", "pl", "ja", "ar")
RTL = frozenset({"ar", "he", "fa", "ur"})
TAG_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$")

_current: ContextVar[str] = ContextVar("locale", default=DEFAULT)


def language_of(tag: str | None) -> str:
    """The supported language that serves a BCP 47 tag (``de-AT`` -> ``de``), else English."""
    base = (tag or "").replace("_", "-").split("-", 1)[0].lower()
    return base if base in SUPPORTED else DEFAULT


def supported_tag(tag: str | None) -> str | None:
    """``tag`` tidied (``pt_br`` -> ``pt-BR``) if it is well formed and its language is one we
    ship, else None: a reader asking for Swedish gets the next language they accept, or English."""
    text = (tag or "").strip().replace("_", "-")
    if not TAG_RE.match(text):
        return None
    parts = text.split("-")
    if parts[0].lower() not in SUPPORTED:
        return None
    tidy = [parts[0].lower()]
    for part in parts[1:]:
        tidy.append(part.upper() if len(part) == 2 else part.title() if len(part) == 4 else part)
    return "-".join(tidy)


def negotiate(accept_language: str | None) -> str | None:
    """The reader's most preferred supported tag in an ``Accept-Language`` header, or None."""
    weighted = []
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if quality > 0:
            weighted.append((-quality, position, tag.strip()))
    for _, _, tag in sorted(weighted):
        found = supported_tag(tag)
        if found:
            return found
    return None


@lru_cache(maxsize=len(SUPPORTED))
def translations(language: str) -> NullTranslations:
    if language == DEFAULT:
        return NullTranslations()
    return Translations.load(str(LOCALES_DIR), [language], domain=DOMAIN)


def current_locale() -> str:
    """The full tag of the reader (``de-AT``): dates and numbers follow it, text its language."""
    return _current.get()


@contextmanager
def use_locale(tag: str | None) -> Iterator[str]:
    """Read text in ``tag``'s language inside the block (an email, a request, a CLI command)."""
    token = _current.set(tag or DEFAULT)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def set_locale(tag: str | None) -> None:
    """Set the reader's locale for the rest of the current task (a request handler)."""
    _current.set(tag or DEFAULT)


def gettext(message: str, /, **variables: Any) -> str:
    text = translations(language_of(_current.get())).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, /, **variables: Any) -> str:
    text = translations(language_of(_current.get())).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def pgettext(context: str, message: str, /, **variables: Any) -> str:
    text = str(translations(language_of(_current.get())).pgettext(context, message))
    return text % variables if variables else text


def lazy_gettext(message: str, /, **variables: Any) -> LazyProxy:
    """For module-level strings: translated when used, in the language current then."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


_ = gettext


def text_direction(tag: str | None) -> str:
    return "rtl" if language_of(tag) in RTL else "ltr"


def bdi(text: Any) -> Markup:
    """``text`` (a name, a title: someone else's words) isolated in HTML, so that an English
    title inside an Arabic sentence keeps its own order: ``_("%(event)s with %(host)s",
    event=bdi(title), …)``. For element content only, not attributes."""
    return Markup("<bdi>%s</bdi>") % text


def isolate(text: Any) -> str:
    """The same for plain text (an email, a subject): Unicode's first-strong isolate, for a
    right-to-left reader only (left-to-right text needs none)."""
    if text_direction(_current.get()) != "rtl":
        return str(text)
    return f"\u2068{text}\u2069"


def install(environment: Any) -> None:
    """Give a Jinja environment ``_``, ``gettext``, ``ngettext``, ``{% trans %}`` and the
    ``bdi``/``isolate`` helpers for names inside translated sentences."""
    environment.globals.update(
        bdi=bdi,
        isolate=isolate,
        page_lang=lambda: current_locale().replace("_", "-"),
        page_dir=lambda: text_direction(current_locale()),
    )
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(
        lambda message: translations(language_of(_current.get())).gettext(message),
        lambda s, p, n: translations(language_of(_current.get())).ngettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, m: translations(language_of(_current.get())).pgettext(c, m),
    )
