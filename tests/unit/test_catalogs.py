"""The translation catalogs are complete and current: a string marked with ``_()`` anywhere and not
translated into every language we ship fails here, as does a catalog left stale.

``make messages`` fixes the first two kinds (then translate what arrived); ``make messages-compile``
the last.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.i18n import LOCALES_DIR, SUPPORTED

ROOT = Path(__file__).resolve().parents[2]
POT = LOCALES_DIR / "messages.pot"
LANGUAGES = [language for language in SUPPORTED if language != "en"]


def keys(catalog: Catalog) -> set[tuple[str, str | None]]:
    return {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in catalog if m.id}


def plain(text: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    return text if isinstance(text, str) else tuple(text)


def po(language: str) -> Catalog:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=language)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The catalog template extracted from today's sources, as ``make pot`` makes it."""
    out = tmp_path_factory.mktemp("pot") / "messages.pot"
    pybabel = f"{sys.executable} -m babel.messages.frontend"
    subprocess.run(
        ["make", "-s", "--no-print-directory", "pot", f"POT={out}", f"PYBABEL={pybabel}"],
        cwd=ROOT,
        check=True,
    )
    with out.open("rb") as f:
        return read_po(f)


def test_the_committed_template_is_what_the_sources_mark(extracted: Catalog) -> None:
    with POT.open("rb") as f:
        committed = read_po(f)
    missing = keys(extracted) - keys(committed)
    stale = keys(committed) - keys(extracted)
    assert not missing and not stale, f"run `make messages`: new {missing}, gone {stale}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str, extracted: Catalog) -> None:
    catalog = po(language)
    assert keys(catalog) == keys(extracted), "run `make messages` and translate what arrived"
    untranslated = [
        m.id
        for m in catalog
        if m.id
        and (
            "fuzzy" in m.flags
            or not (all(m.string) if isinstance(m.string, tuple) else m.string)
            or (isinstance(m.string, tuple) and len(m.string) != catalog.num_plurals)
        )
    ]
    assert untranslated == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders(language: str) -> None:
    """``%(host)s`` in the English text is ``%(host)s`` in the translation (a plural form may
    spell the number out, as Arabic does for one and two)."""
    problems = []
    for message, errors in po(language).check():
        problems += [f"{message.id!r}: {error}" for error in errors]
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_is_current(language: str) -> None:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        compiled = read_mo(f)
    source = po(language)
    for message in source:
        if not message.id:
            continue
        found = compiled.get(message.id, message.context)
        assert found is not None and plain(found.string) == plain(message.string), (
            f"{language}: run `make messages-compile` ({message.id!r})"
        )


def test_a_page_reads_in_each_language() -> None:
    from app.i18n import gettext, use_locale

    seen = set()
    for language in SUPPORTED:
        with use_locale(language):
            seen.add(gettext("Your details"))
    assert len(seen) == len(SUPPORTED)
