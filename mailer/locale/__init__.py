"""Interface strings in Swedish, Danish and English; the issue's language picks the set."""

from __future__ import annotations

import datetime as dt

LANGUAGES = ("sv", "da", "en")

STRINGS: dict[str, dict[str, str]] = {
    "sv": {
        "view_in_browser": "Visa i webbläsaren",
        "my_subscription": "Min prenumeration",
        "forward_to_friend": "Tipsa en vän",
        "contact_us": "Kontakta oss",
        "unsubscribe": "Avsluta prenumerationen",
        "preferences": "Ändra dina uppgifter",
        "read_more": "Läs mer",
        "issue": "Nummer {number}",
        "facts": "Fakta",
        "contact": "Kontakt",
        "events": "Kalender",
        "privacy": "Så hanterar vi dina personuppgifter",
        "why_you_receive": (
            "Du får det här nyhetsbrevet eftersom du prenumererar på {list} från {organisation}."
        ),
        "sent_to": "Skickat till {email}.",
        "phone": "Telefon",
        "email": "E-post",
        "web": "Webb",
        "address": "Adress",
        "forward_subject": "Tips: {subject}",
        "forward_body": "Jag tror att det här nyhetsbrevet kan intressera dig: {url}",
        "archive": "Alla nummer",
        "subscribe": "Prenumerera",
        "web_version_note": "Webbversion av nyhetsbrevet.",
        "image": "Bild",
        "place": "Plats",
        "time": "Tid",
        "months": "jan feb mar apr maj jun jul aug sep okt nov dec",
        "months_long": "januari februari mars april maj juni juli augusti september oktober "
        "november december",
        "day": "{day}",
        "why_you_receive_same": ("Du får det här nyhetsbrevet eftersom du prenumererar på {list}."),
        "date": "{day} {month} {year}",
    },
    "da": {
        "view_in_browser": "Vis i browseren",
        "my_subscription": "Mit abonnement",
        "forward_to_friend": "Send til en ven",
        "contact_us": "Kontakt os",
        "unsubscribe": "Afmeld nyhedsbrevet",
        "preferences": "Ret dine oplysninger",
        "read_more": "Læs mere",
        "issue": "Nummer {number}",
        "facts": "Fakta",
        "contact": "Kontakt",
        "events": "Kalender",
        "privacy": "Sådan behandler vi dine personoplysninger",
        "why_you_receive": (
            "Du modtager dette nyhedsbrev, fordi du abonnerer på {list} fra {organisation}."
        ),
        "sent_to": "Sendt til {email}.",
        "phone": "Telefon",
        "email": "E-mail",
        "web": "Web",
        "address": "Adresse",
        "forward_subject": "Tip: {subject}",
        "forward_body": "Jeg tror, at dette nyhedsbrev kan interessere dig: {url}",
        "archive": "Alle numre",
        "subscribe": "Abonnér",
        "web_version_note": "Webversion af nyhedsbrevet.",
        "image": "Billede",
        "place": "Sted",
        "time": "Tid",
        "months": "jan. feb. mar. apr. maj jun. jul. aug. sep. okt. nov. dec.",
        "months_long": "januar februar marts april maj juni juli august september oktober "
        "november december",
        "day": "{day}.",
        "why_you_receive_same": "Du modtager dette nyhedsbrev, fordi du abonnerer på {list}.",
        "date": "{day}. {month} {year}",
    },
    "en": {
        "view_in_browser": "View in browser",
        "my_subscription": "My subscription",
        "forward_to_friend": "Forward to a friend",
        "contact_us": "Contact us",
        "unsubscribe": "Unsubscribe",
        "preferences": "Update your details",
        "read_more": "Read more",
        "issue": "Issue {number}",
        "facts": "Facts",
        "contact": "Contact",
        "events": "Calendar",
        "privacy": "How we handle your personal data",
        "why_you_receive": (
            "You receive this newsletter because you subscribe to {list} from {organisation}."
        ),
        "sent_to": "Sent to {email}.",
        "phone": "Phone",
        "email": "E-mail",
        "web": "Web",
        "address": "Address",
        "forward_subject": "Tip: {subject}",
        "forward_body": "I think this newsletter may interest you: {url}",
        "archive": "All issues",
        "subscribe": "Subscribe",
        "web_version_note": "Web version of the newsletter.",
        "image": "Image",
        "place": "Place",
        "time": "Time",
        "months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
        "months_long": "January February March April May June July August September October "
        "November December",
        "day": "{day}",
        "why_you_receive_same": "You receive this newsletter because you subscribe to {list}.",
        "date": "{day} {month} {year}",
    },
}


def translate(language: str, key: str, **kw: object) -> str:
    """The string `key` in `language` (English for an unknown language), formatted with `kw`.

    An unknown key is a programming error and raises KeyError naming it.
    """
    table = STRINGS.get(language, STRINGS["en"])
    try:
        text = table[key]
    except KeyError:
        raise KeyError(f"no translation for {key!r}; add it to mailer/i18n.py") from None
    return text.format(**kw) if kw else text


def month_abbreviation(language: str, month: int) -> str:
    """Short month name (1-12) for the event calendar."""
    return translate(language, "months").split()[month - 1]


def format_date(language: str, date: dt.date) -> str:
    """A date as people write it in `language`: '14 juni 2018', '14. juni 2018', '14 June 2018'."""
    month = translate(language, "months_long").split()[date.month - 1]
    return translate(language, "date", day=date.day, month=month, year=date.year)
