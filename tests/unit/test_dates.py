"""Dates and times as each locale writes them (app/dates.py), the reader's language
(app/i18n.py), and finding a time zone by what people call it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from babel import Locale

from app.dates import Formats, babel_locale, first_week_day, fold, picker_zones, search_zones
from app.i18n import language_of, negotiate, supported_tag, text_direction

START = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)  # a Tuesday
END = datetime(2026, 12, 8, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tag", "zone", "expected"),
    [
        ("de", "Europe/Berlin", "Dienstag, 8. Dezember 2026"),
        ("pt", "America/Sao_Paulo", "terça-feira, 8 de dezembro de 2026"),
        ("ja", "Asia/Tokyo", "2026年12月8日火曜日"),
        ("en-US", "America/New_York", "Tuesday, December 8, 2026"),
        ("en-GB", "Europe/London", "Tuesday, 8 December 2026"),
        ("ar", "Asia/Dubai", "الثلاثاء، 8 ديسمبر 2026"),
    ],
)
def test_full_dates_are_cldrs(tag: str, zone: str, expected: str) -> None:
    assert Formats.of(tag, zone).full_date(START) == expected


@pytest.mark.parametrize(
    ("tag", "zone", "expected"),
    [
        ("de", "Europe/Berlin", "11:00–11:30 Uhr"),
        ("en-GB", "Europe/London", "10:00–10:30"),
        ("en-US", "America/New_York", "5:00\u2009–\u20095:30\u202fAM"),
        ("ja", "Asia/Tokyo", "19時00分～19時30分"),
    ],
)
def test_time_ranges_use_the_interval_formats(tag: str, zone: str, expected: str) -> None:
    assert Formats.of(tag, zone).times(START, END) == expected


def test_a_page_and_an_email_say_the_same_thing() -> None:
    """One helper: the email's "when" is the page's, for the same reader."""
    from app.notify.email import when

    page = Formats.of("en-US", "America/New_York").when(START, END)
    assert page == "Tuesday, December 8, 2026, 5:00\u2009–\u20095:30\u202fAM"
    assert when(START, END, "America/New_York", "en-US") == page


def test_a_meeting_across_midnight_names_both_days() -> None:
    late = Formats.of("de", "Europe/Berlin").when(
        datetime(2026, 12, 8, 22, 30, tzinfo=UTC), datetime(2026, 12, 8, 23, 30, tzinfo=UTC)
    )
    assert late == "Dienstag, 8. Dezember 2026, 23:30\u2009–\u2009Mittwoch, 9. Dezember 2026, 00:30"


def test_the_clock_follows_the_locale_unless_the_guest_chose() -> None:
    assert Formats.of("en-US", "UTC").hour12 is True
    assert Formats.of("de", "UTC").hour12 is False
    assert Formats.of("ar", "UTC").hour12 is True
    assert Formats.of("de", "UTC", hour12=True).time(START) == "10:00\u202fAM"
    assert Formats.of("en-US", "UTC", hour12=False).time(START) == "10:00"


def test_months_durations_and_zone_names() -> None:
    de, ja, pl = (Formats.of(t, "Europe/Berlin") for t in ("de", "ja", "pl"))
    assert de.month(date(2026, 12, 1)) == "Dezember 2026"
    assert ja.month(date(2026, 12, 1)) == "2026年12月"
    assert pl.month(date(2026, 12, 1)) == "grudzień 2026"  # the stand-alone form
    assert de.duration(30) == "30 Minuten" and de.duration(90) == "1 Stunde und 30 Minuten"
    assert Formats.of("ar", "UTC").duration(90) == "ساعة و30 دقيقة"
    assert de.zone_name() == "Mitteleuropäische Zeit"
    assert de.offset(START) == "GMT+01:00"


def test_the_week_starts_where_the_reader_lives() -> None:
    assert first_week_day(Locale.parse("de")) == 0  # Monday
    assert first_week_day(Locale.parse("en_US")) == 6  # Sunday
    assert first_week_day(Locale.parse("ja")) == 6  # Japan, though no region was given
    assert first_week_day(Locale.parse("ar")) == 5  # Egypt: Saturday
    assert first_week_day(Locale.parse("en_GB")) == 0


def test_languages_we_do_not_ship_read_english_dates_included() -> None:
    assert babel_locale("sv-SE") == Locale.parse("en")
    assert babel_locale("de-AT") == Locale.parse("de_AT")
    assert babel_locale("de-XX") == Locale.parse("de")
    assert language_of("pt-BR") == "pt" and language_of("sv") == "en" and language_of(None) == "en"
    assert text_direction("ar-EG") == "rtl" and text_direction("de") == "ltr"


def test_the_readers_language_from_the_address_or_the_browser() -> None:
    assert supported_tag("pt_br") == "pt-BR"
    assert supported_tag("zh-Hant-TW") is None and supported_tag("<script>") is None
    assert negotiate("sv-SE,de-AT;q=0.8,en;q=0.5") == "de-AT"
    assert negotiate("en;q=0.1, ja;q=0.9") == "ja"
    assert negotiate("fr;q=0, es") == "es"
    assert negotiate("") is None and negotiate("*") is None


@pytest.mark.parametrize(
    ("query", "tag", "first"),
    [
        ("tokyo", "en", "Asia/Tokyo"),
        ("Tokio", "de", "Asia/Tokyo"),
        ("東京", "ja", "Asia/Tokyo"),
        ("طوكيو", "ar", "Asia/Tokyo"),
        ("sao paulo", "en", "America/Sao_Paulo"),
        ("zurich", "de", "Europe/Zurich"),
        ("new york", "en", "America/New_York"),
        ("pacific time", "en", "America/Los_Angeles"),
        ("kolkata", "en", "Asia/Kolkata"),
    ],
)
def test_a_zone_is_found_by_its_city_or_name_in_the_readers_language_or_english(
    query: str, tag: str, first: str
) -> None:
    assert search_zones(query, tag)[0] == first


def test_a_zone_is_found_by_its_offset_now() -> None:
    winter = datetime(2026, 1, 15, tzinfo=UTC)
    assert "Asia/Kolkata" in search_zones("GMT+5:30", "en", at=winter)
    assert "Asia/Tokyo" in search_zones("+9", "en", at=winter)
    assert "America/New_York" in search_zones("utc-05:00", "en", at=winter, limit=50)
    assert search_zones("   ", "en") == []
    assert search_zones("atlantis", "en") == []


def test_the_picker_lists_places_people_live_not_aliases() -> None:
    zones = picker_zones()
    assert "UTC" in zones and "Europe/Kyiv" in zones and "Asia/Kolkata" in zones
    assert "US/Eastern" not in zones and "Etc/GMT+5" not in zones and "Asia/Calcutta" not in zones
    assert 380 < len(zones) < 460
    assert fold("São Paulo") == "sao paulo"
