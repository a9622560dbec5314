"""The string catalogues: one module per language, all alike, found by looking in the folder."""

from __future__ import annotations

import datetime as dt
import importlib
import shutil
import sys
from pathlib import Path
from string import Formatter

import pytest

import mailer.locale
from mailer.locale import (
    LANGUAGES,
    STRINGS,
    format_date,
    join_names,
    month_abbreviation,
    translate,
)

LOCALE_DIR = Path(mailer.locale.__file__).parent


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def test_the_languages_are_the_modules_in_the_folder_with_swedish_first():
    modules = {p.stem for p in LOCALE_DIR.glob("*.py") if p.stem != "__init__"}
    assert set(LANGUAGES) == modules
    assert LANGUAGES == ("sv", "da", "en")


def test_every_language_module_has_the_same_keys():
    reference = set(STRINGS[LANGUAGES[0]])
    for language in LANGUAGES:
        module = importlib.import_module(f"mailer.locale.{language}")
        assert module.STRINGS is STRINGS[language]
        assert set(module.STRINGS) - reference == set(), language
        assert reference - set(module.STRINGS) == set(), language


def test_every_key_has_the_same_placeholders_in_every_language():
    different = [
        key
        for key in STRINGS[LANGUAGES[0]]
        if len({frozenset(fields(STRINGS[lang][key])) for lang in LANGUAGES}) != 1
    ]
    assert different == []


def test_every_language_has_twelve_months_and_a_date_with_day_month_year():
    for language in LANGUAGES:
        assert len(translate(language, "months").split()) == 12, language
        assert len(translate(language, "months_long").split()) == 12, language
        assert fields(translate(language, "date")) == {"day", "month", "year"}, language


def test_email_page_and_service_mail_strings_share_one_catalogue():
    assert translate("sv", "read_more") == "Läs mer"  # issue email
    assert translate("da", "unsub_title") == "Afmeld abonnement"  # web page
    assert translate("en", "confirm_mail_subject") == "Please confirm your subscription"
    assert "{url}" in translate("sv", "erase_mail_body")  # mailed-link mail


def test_dates_months_and_names_in_each_language():
    day = dt.date(2018, 6, 14)
    assert format_date("sv", day) == "14 juni 2018"
    assert format_date("da", day) == "14. juni 2018"
    assert format_date("en", day) == "14 June 2018"
    assert month_abbreviation("sv", 10) == "okt"
    assert join_names("da", ["A", "B", "C"]) == "A, B og C"
    assert join_names("en", ["A"]) == "A"


def test_an_unknown_language_falls_back_to_english():
    assert translate("fi", "read_more") == "Read more"
    assert format_date("xx", dt.date(2018, 6, 14)) == "14 June 2018"


def test_an_unknown_key_names_the_key_and_where_to_add_it():
    with pytest.raises(KeyError, match=r"'no_such_key'.*mailer/locale/"):
        translate("sv", "no_such_key")


def test_a_language_added_as_one_file_shows_up(tmp_path, monkeypatch):
    """A copy of the locale package plus fi.py: LANGUAGES and translate know Finnish."""
    package = tmp_path / "locale_copy"
    shutil.copytree(LOCALE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "fi.py").write_text(
        '"""Finnish, as a test adds it."""\n\n'
        "from .en import STRINGS as _ENGLISH\n\n"
        "ORDER = 4\n"
        'STRINGS = {**_ENGLISH, "read_more": "Lue lisää", "date": "{day}. {month}ta {year}"}\n',
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        copy = importlib.import_module("locale_copy")
        assert copy.LANGUAGES == ("sv", "da", "en", "fi")
        assert copy.translate("fi", "read_more") == "Lue lisää"
        assert copy.format_date("fi", dt.date(2018, 6, 14)) == "14. Juneta 2018"
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] == "locale_copy"]:
            del sys.modules[name]
    assert "fi" not in LANGUAGES
