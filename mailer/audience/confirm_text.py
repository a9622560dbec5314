"""The confirmation email's words in Swedish, Danish and English: plain, no marketing.

Kept apart from the issue translations because this text is part of the consent record's
context: change it deliberately (and look at tests/test_optin.py) rather than in passing.
"""

from __future__ import annotations

CONFIRM_TEXT: dict[str, dict[str, str]] = {
    "sv": {
        "subject": "Bekräfta din prenumeration",
        "body": (
            "Hej!\n\n"
            "Någon, förhoppningsvis du, har bett om att få nyhetsbrev från {sender} "
            "till adressen {email}.\n\n"
            "Bekräfta genom att öppna länken och klicka på knappen Bekräfta:\n\n"
            "{url}\n\n"
            "Länken gäller i {hours} timmar. Var det inte du behöver du inte göra något: "
            "vi skickar inget mer och raderar uppgiften efter {days} dagar.\n\n"
            "Hälsningar\n{sender}\n"
        ),
    },
    "da": {
        "subject": "Bekræft dit abonnement",
        "body": (
            "Hej!\n\n"
            "Nogen, forhåbentlig dig, har bedt om at få nyhedsbreve fra {sender} "
            "på adressen {email}.\n\n"
            "Bekræft ved at åbne linket og klikke på knappen Bekræft:\n\n"
            "{url}\n\n"
            "Linket virker i {hours} timer. Var det ikke dig, skal du ikke gøre noget: "
            "vi sender ikke mere og sletter oplysningen efter {days} dage.\n\n"
            "Venlig hilsen\n{sender}\n"
        ),
    },
    "en": {
        "subject": "Please confirm your subscription",
        "body": (
            "Hello,\n\n"
            "Someone, hopefully you, asked to receive newsletters from {sender} "
            "at the address {email}.\n\n"
            "To confirm, open the link and press the Confirm button:\n\n"
            "{url}\n\n"
            "The link works for {hours} hours. If this was not you, there is nothing to do: "
            "we will send nothing more and delete the request after {days} days.\n\n"
            "Kind regards\n{sender}\n"
        ),
    },
}
