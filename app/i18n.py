"""Translations: gettext catalogs (Babel) for every user-facing string, pages and emails.

The reader's language is held in a context variable for the duration of a request, an email or
any other piece of work (``use_locale``), so services, templates and emails all ask the same
place. Templates get ``_``/``gettext``/``ngettext`` through Jinja's i18n extension in its
"newstyle" form: ``{{ _("Hello %(name)s", name=guest) }}`` escapes ``guest`` and not the text.

Catalogs live in ``app/locales/<lang>/LC_MESSAGES/messages.po`` and are compiled to ``.mo``; a
language without a compiled catalog reads English, which is the source text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.support import LazyProxy, NullTranslations, Translations

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
DEFAULT = "en"
# The languages we ship catalogs for (issue 12); the first is the source language.
SUPPORTED = ("en", "de", "es", "fr", "it", "nl", "pt", "pl", "ja", "ar")
RTL = frozenset({"ar", "he", "fa", "ur"})

_current: ContextVar[str] = ContextVar("locale", default=DEFAULT)


def language_of(tag: str | None) -> str:
    """The supported language that serves a BCP 47 tag (``de-AT`` -> ``de``), else English."""
    base = (tag or "").replace("_", "-").split("-", 1)[0].lower()
    return base if base in SUPPORTED else DEFAULT


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


def install(environment: Any) -> None:
    """Give a Jinja environment ``_``, ``gettext``, ``ngettext`` and ``{% trans %}``."""
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(
        lambda message: translations(language_of(_current.get())).gettext(message),
        lambda s, p, n: translations(language_of(_current.get())).ngettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, m: translations(language_of(_current.get())).pgettext(c, m),
    )
