"""Every string a person reads, one catalogue module per language (sv.py, da.py, en.py).

Emails, web pages and service mails all take their words from here. A language module holds
`STRINGS` (key -> text with `{placeholders}`, month names and the date pattern included) and
`ORDER` (its place in language lists; the first is the web pages' default). Adding a language
means adding one module named by its code: LANGUAGES is read from the modules in this folder.
May import: nothing of mailer (every wing may import it).
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import re
from types import ModuleType

FALLBACK = "en"  # the language of a string asked for in a language we have no catalogue for
_CODE = re.compile(r"^[a-z]{2,3}$")  # ISO 639 codes; other modules here are not languages


def _catalogues() -> dict[str, ModuleType]:
    """The language modules of this package, in their ORDER (then by code)."""
    found = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if _CODE.fullmatch(info.name) and not info.ispkg
    ]
    found.sort(key=lambda module: (module.ORDER, module.__name__))
    return {module.__name__.rsplit(".", 1)[1]: module for module in found}


_MODULES = _catalogues()
LANGUAGES: tuple[str, ...] = tuple(_MODULES)
STRINGS: dict[str, dict[str, str]] = {code: module.STRINGS for code, module in _MODULES.items()}


def translate(language: str, key: str, **kw: object) -> str:
    """The string `key` in `language` (English for an unknown language), formatted with `kw`.

    Values are formatted into plain text; an HTML template's autoescape escapes the result.
    An unknown key is a programming error and raises KeyError naming it.
    """
    table = STRINGS.get(language, STRINGS[FALLBACK])
    try:
        text = table[key]
    except KeyError:
        raise KeyError(
            f"no translation for {key!r}; add it to every language module in mailer/locale/"
        ) from None
    return text.format(**kw) if kw else text


def month_abbreviation(language: str, month: int) -> str:
    """Short month name (1-12) for the event calendar."""
    return translate(language, "months").split()[month - 1]


def format_date(language: str, date: dt.date) -> str:
    """A date as people write it in `language`: '14 juni 2018', '14. juni 2018', '14 June 2018'."""
    month = translate(language, "months_long").split()[date.month - 1]
    return translate(language, "date", day=date.day, month=month, year=date.year)


def join_names(language: str, names: list[str]) -> str:
    """'A', 'A and B', 'A, B and C' in `language`."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {translate(language, 'and')} {names[-1]}"
