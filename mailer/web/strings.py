"""Texts of the web pages in Swedish, Danish and English (e-mail texts live in mailer/i18n.py;
the mailed-link mails' words, `export_mail_*` and `erase_mail_*`, are here beside the pages that
send them). `export_sent_title`, `export_sent_hint` and `export_back` serve both mailed links'
pages (link_sent.html, erase.html)."""

from __future__ import annotations

LANGUAGES = ("sv", "da", "en")

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "language_name": "English",
        "skip": "Skip to content",
        "nav_archive": "Archive",
        "nav_subscribe": "Subscribe",
        "nav_language": "Language",
        "and": "and",
        "home_title": "Newsletter",
        "home_intro": "News from {site} by e-mail.",
        "not_found_title": "This link does not work",
        "not_found_body": (
            "The page may have moved, or the link may be mistyped, expired or already used."
        ),
        "not_found_help": "Did you want to subscribe? You can start again.",
        "bad_request_title": "The form has expired",
        "bad_request_body": (
            "For your security the form could not be sent. Go back, reload the page and try again."
        ),
        "too_many_title": "Too many attempts",
        "too_many_body": "Please wait a while and try again.",
        "error_title": "Something went wrong",
        "error_body": "Please try again in a little while.",
        "unsub_title": "Unsubscribe",
        "unsub_question": "Do you want to stop receiving {list}?",
        "unsub_address": "Address: {email}",
        "unsub_button": "Unsubscribe",
        "unsub_all_button": "Unsubscribe from all lists",
        "unsub_done_title": "You are unsubscribed",
        "unsub_done_body": "You will no longer receive {list}. The change took effect at once.",
        "unsub_all_done_body": (
            "You will no longer receive any of our newsletters. The change took effect at once."
        ),
        "unsub_still": "You still receive {lists}.",
        "unsub_already": "You do not receive {list}.",
        "unsub_mistake": "Unsubscribed by mistake?",
        "resubscribe_button": "Resubscribe to {list}",
        "resub_done_title": "Welcome back",
        "resub_done_body": "You receive {list} again.",
        "sub_title": "Subscribe to our newsletter",
        "sub_intro": (
            "Get news from {site} by e-mail. We will send you a link to confirm your address."
        ),
        "field_email": "E-mail address",
        "field_name": "Name",
        "optional": "optional",
        "field_language": "Language",
        "field_lists": "Newsletters",
        "sub_consent": (
            "By subscribing you agree that {site} stores your e-mail address, name and language "
            "to send you {lists}. You can unsubscribe at any time with the link in every e-mail, "
            "and see or erase your data under “My subscription”. We keep a record of when and "
            "how you subscribed."
        ),
        "sub_button": "Subscribe",
        "honeypot_label": "Leave this field empty",
        "err_email": "Enter a valid e-mail address, such as name@example.org.",
        "err_lists": "Choose at least one newsletter.",
        "err_summary": "Please correct the marked fields.",
        "sub_done_title": "Check your inbox",
        "sub_done_body": (
            "If {email} can receive our newsletter, we have sent it a message with a link to "
            "confirm. The link works for {hours} hours."
        ),
        "sub_done_hint": "Nothing arrived? Look in the spam folder, or try again in a few minutes.",
        "no_lists": "There is nothing to subscribe to right now.",
        "confirm_title": "Confirm your subscription",
        "confirm_body": "Press the button to start receiving {lists}.",
        "confirm_button": "Confirm subscription",
        "confirmed_title": "Thank you, you are subscribed",
        "confirmed_body": (
            "Your subscription is confirmed. Every e-mail has links to change your details or "
            "unsubscribe."
        ),
        "confirm_invalid_title": "This link has expired",
        "confirm_invalid_body": (
            "A confirmation link works once and for a limited time. This one has expired or "
            "has already been used."
        ),
        "start_again": "Subscribe again",
        "prefs_title": "My subscription",
        "prefs_intro": "Subscription for {email}.",
        "prefs_saved": "Your changes are saved.",
        "prefs_save_button": "Save changes",
        "prefs_lists_hint": "Untick a newsletter to stop receiving it.",
        "prefs_data_title": "Your data",
        "prefs_data_body": (
            "We e-mail you a link to download everything we hold about you: your details, "
            "subscriptions, consents and the issues sent to you."
        ),
        "prefs_download_button": "E-mail me my data",
        "export_sent_title": "Check your inbox",
        "export_sent_body": (
            "We have sent a link to download your data to {email}. The link works for "
            "{minutes} minutes."
        ),
        "export_sent_hint": (
            "Nothing arrived? Look in the spam folder. You can ask for a new link after {wait} "
            "minutes."
        ),
        "export_back": "Back to my subscription",
        "export_title": "Download your data",
        "export_body": (
            "Download everything we hold about {email}: details, subscriptions, consents and the "
            "issues sent to you, as a JSON file."
        ),
        "export_hint": "The link works once and for a limited time.",
        "export_button": "Download my data (JSON)",
        "export_mail_subject": "Download your data",
        "export_mail_body": (
            "Hello,\n\n"
            "Someone, hopefully you, asked for a copy of the data {sender} holds about "
            "{email}.\n\n"
            "Open the link and press the Download button:\n\n"
            "{url}\n\n"
            "The link works once, for {minutes} minutes. If it was not you, you need not do "
            "anything: the data is only ever sent to this address. (Someone you forwarded a "
            "newsletter to may have pressed the button.)\n\n"
            "Best regards\n{sender}\n"
        ),
        "prefs_erase_title": "Erase me",
        "prefs_erase_body": (
            "Remove your details and subscriptions. We keep only a scrambled fingerprint of your "
            "address, so that we never mail you again by mistake."
        ),
        "prefs_erase_link": "Erase me…",
        "erase_ask_body": (
            "To make sure it is you, we e-mail a link to your address. Nothing is erased until "
            "you open that link and confirm."
        ),
        "erase_mail_button": "E-mail me a link to erase my data",
        "erase_sent_body": (
            "We have sent a link to erase your data to {email}. The link works for {minutes} "
            "minutes. Nothing is erased until you open it and confirm."
        ),
        "erase_mail_subject": "Erase your data",
        "erase_mail_body": (
            "Hello,\n\n"
            "Someone, hopefully you, asked to erase the data {sender} holds about {email}. "
            "Erasing removes your details and subscriptions, and you will get no more e-mail "
            "from us.\n\n"
            "To erase it, open the link and press the button “Yes, erase me”:\n\n"
            "{url}\n\n"
            "The link works once, for {minutes} minutes. If you ignore this message, nothing "
            "happens: your data and subscriptions stay as they are. (Someone you forwarded a "
            "newsletter to may have pressed the button.)\n\n"
            "Best regards\n{sender}\n"
        ),
        "erase_title": "Erase all your data?",
        "erase_body": (
            "This removes {email}, your name and your subscriptions. It cannot be undone."
        ),
        "erase_button": "Yes, erase me",
        "erase_hint": (
            "The link works once and for a limited time. If you close this page, nothing is erased."
        ),
        "erase_cancel": "Cancel",
        "erased_title": "Your data is erased",
        "erased_body": "We have erased your details, and you will get no more e-mail from us.",
        "archive_title": "Archive",
        "archive_intro": "Issues we have sent.",
        "archive_empty": "No issues have been sent yet.",
        "archive_issue": "Issue {number}",
    },
    "sv": {
        "language_name": "Svenska",
        "skip": "Hoppa till innehållet",
        "nav_archive": "Arkiv",
        "nav_subscribe": "Prenumerera",
        "nav_language": "Språk",
        "and": "och",
        "home_title": "Nyhetsbrev",
        "home_intro": "Nyheter från {site} via e-post.",
        "not_found_title": "Länken fungerar inte",
        "not_found_body": (
            "Sidan kan ha flyttats, eller så är länken felskriven, för gammal eller redan använd."
        ),
        "not_found_help": "Ville du prenumerera? Då kan du börja om.",
        "bad_request_title": "Formuläret har gått ut",
        "bad_request_body": (
            "Av säkerhetsskäl kunde formuläret inte skickas. Gå tillbaka, ladda om sidan och "
            "försök igen."
        ),
        "too_many_title": "För många försök",
        "too_many_body": "Vänta en stund och försök igen.",
        "error_title": "Något gick fel",
        "error_body": "Försök igen om en liten stund.",
        "unsub_title": "Avsluta prenumeration",
        "unsub_question": "Vill du sluta få {list}?",
        "unsub_address": "Adress: {email}",
        "unsub_button": "Avsluta prenumerationen",
        "unsub_all_button": "Avsluta alla prenumerationer",
        "unsub_done_title": "Du har avslutat prenumerationen",
        "unsub_done_body": "Du får inte längre {list}. Ändringen gäller direkt.",
        "unsub_all_done_body": (
            "Du får inte längre några av våra nyhetsbrev. Ändringen gäller direkt."
        ),
        "unsub_still": "Du får fortfarande {lists}.",
        "unsub_already": "Du prenumererar inte på {list}.",
        "unsub_mistake": "Avslutade du av misstag?",
        "resubscribe_button": "Prenumerera på {list} igen",
        "resub_done_title": "Välkommen tillbaka",
        "resub_done_body": "Du får {list} igen.",
        "sub_title": "Prenumerera på vårt nyhetsbrev",
        "sub_intro": (
            "Få nyheter från {site} via e-post. Vi skickar en länk så att du kan bekräfta din "
            "adress."
        ),
        "field_email": "E-postadress",
        "field_name": "Namn",
        "optional": "frivilligt",
        "field_language": "Språk",
        "field_lists": "Nyhetsbrev",
        "sub_consent": (
            "När du prenumererar samtycker du till att {site} sparar din e-postadress, ditt namn "
            "och ditt språkval för att skicka {lists} till dig. Du kan när som helst avsluta "
            "prenumerationen via länken i varje utskick, och se eller radera dina uppgifter under "
            "”Min prenumeration”. Vi sparar när och hur du anmälde dig."
        ),
        "sub_button": "Prenumerera",
        "honeypot_label": "Lämna det här fältet tomt",
        "err_email": "Skriv en giltig e-postadress, till exempel namn@exempel.se.",
        "err_lists": "Välj minst ett nyhetsbrev.",
        "err_summary": "Rätta de markerade fälten.",
        "sub_done_title": "Titta i din inkorg",
        "sub_done_body": (
            "Om {email} kan ta emot vårt nyhetsbrev har vi skickat ett mejl dit med en länk för "
            "att bekräfta. Länken gäller i {hours} timmar."
        ),
        "sub_done_hint": "Kom inget? Titta i skräpposten, eller försök igen om några minuter.",
        "no_lists": "Det finns inget att prenumerera på just nu.",
        "confirm_title": "Bekräfta din prenumeration",
        "confirm_body": "Tryck på knappen för att börja få {lists}.",
        "confirm_button": "Bekräfta prenumerationen",
        "confirmed_title": "Tack, nu prenumererar du",
        "confirmed_body": (
            "Din prenumeration är bekräftad. I varje utskick finns länkar för att ändra dina "
            "uppgifter eller avsluta prenumerationen."
        ),
        "confirm_invalid_title": "Länken har gått ut",
        "confirm_invalid_body": (
            "En bekräftelselänk fungerar en gång och under en begränsad tid. Den här har gått ut "
            "eller redan använts."
        ),
        "start_again": "Anmäl dig igen",
        "prefs_title": "Min prenumeration",
        "prefs_intro": "Prenumeration för {email}.",
        "prefs_saved": "Dina ändringar är sparade.",
        "prefs_save_button": "Spara ändringarna",
        "prefs_lists_hint": "Avmarkera ett nyhetsbrev för att sluta få det.",
        "prefs_data_title": "Dina uppgifter",
        "prefs_data_body": (
            "Vi mejlar en länk där du kan ladda ner allt vi har sparat om dig: dina uppgifter, "
            "prenumerationer, samtycken och de utskick du har fått."
        ),
        "prefs_download_button": "Mejla mig mina uppgifter",
        "export_sent_title": "Titta i din inkorg",
        "export_sent_body": (
            "Vi har skickat en länk för att ladda ner dina uppgifter till {email}. Länken gäller "
            "i {minutes} minuter."
        ),
        "export_sent_hint": (
            "Kom inget? Titta i skräpposten. Du kan be om en ny länk efter {wait} minuter."
        ),
        "export_back": "Tillbaka till min prenumeration",
        "export_title": "Ladda ner dina uppgifter",
        "export_body": (
            "Ladda ner allt vi har sparat om {email}: uppgifter, prenumerationer, samtycken och "
            "de utskick du har fått, som en JSON-fil."
        ),
        "export_hint": "Länken fungerar en gång och under en begränsad tid.",
        "export_button": "Ladda ner mina uppgifter (JSON)",
        "export_mail_subject": "Ladda ner dina uppgifter",
        "export_mail_body": (
            "Hej!\n\n"
            "Någon, förhoppningsvis du, har bett om en kopia av de uppgifter som {sender} har "
            "sparat om {email}.\n\n"
            "Öppna länken och klicka på knappen Ladda ner:\n\n"
            "{url}\n\n"
            "Länken fungerar en gång och gäller i {minutes} minuter. Var det inte du behöver du "
            "inte göra något: uppgifterna skickas bara till den här adressen. (Någon som du har "
            "vidarebefordrat ett nyhetsbrev till kan ha tryckt på knappen.)\n\n"
            "Hälsningar\n{sender}\n"
        ),
        "prefs_erase_title": "Radera mig",
        "prefs_erase_body": (
            "Ta bort dina uppgifter och prenumerationer. Vi behåller bara ett oläsligt "
            "fingeravtryck av din adress, så att vi aldrig mejlar dig igen av misstag."
        ),
        "prefs_erase_link": "Radera mig …",
        "erase_ask_body": (
            "För att vara säkra på att det är du mejlar vi en länk till din adress. Ingenting "
            "raderas förrän du har öppnat länken och bekräftat."
        ),
        "erase_mail_button": "Mejla mig en länk för att radera mina uppgifter",
        "erase_sent_body": (
            "Vi har skickat en länk för att radera dina uppgifter till {email}. Länken gäller i "
            "{minutes} minuter. Ingenting raderas förrän du öppnar den och bekräftar."
        ),
        "erase_mail_subject": "Radera dina uppgifter",
        "erase_mail_body": (
            "Hej!\n\n"
            "Någon, förhoppningsvis du, har bett om att de uppgifter som {sender} har sparat om "
            "{email} ska raderas. Då tas dina uppgifter och prenumerationer bort, och du får inga "
            "fler mejl från oss.\n\n"
            "Öppna länken och klicka på knappen ”Ja, radera mig” för att radera dem:\n\n"
            "{url}\n\n"
            "Länken fungerar en gång och gäller i {minutes} minuter. Gör du ingenting händer "
            "ingenting: dina uppgifter och prenumerationer finns kvar som de är. (Någon som du har "
            "vidarebefordrat ett nyhetsbrev till kan ha tryckt på knappen.)\n\n"
            "Hälsningar\n{sender}\n"
        ),
        "erase_title": "Radera alla dina uppgifter?",
        "erase_body": (
            "Det tar bort {email}, ditt namn och dina prenumerationer. Det går inte att ångra."
        ),
        "erase_button": "Ja, radera mig",
        "erase_hint": (
            "Länken fungerar en gång och under en begränsad tid. Stänger du sidan raderas "
            "ingenting."
        ),
        "erase_cancel": "Avbryt",
        "erased_title": "Dina uppgifter är raderade",
        "erased_body": "Vi har raderat dina uppgifter, och du får inga fler mejl från oss.",
        "archive_title": "Arkiv",
        "archive_intro": "Nummer som vi har skickat ut.",
        "archive_empty": "Inga nummer har skickats ut än.",
        "archive_issue": "Nummer {number}",
    },
    "da": {
        "language_name": "Dansk",
        "skip": "Spring til indholdet",
        "nav_archive": "Arkiv",
        "nav_subscribe": "Abonnér",
        "nav_language": "Sprog",
        "and": "og",
        "home_title": "Nyhedsbrev",
        "home_intro": "Nyheder fra {site} på e-mail.",
        "not_found_title": "Linket virker ikke",
        "not_found_body": (
            "Siden kan være flyttet, eller linket kan være skrevet forkert, udløbet eller "
            "allerede brugt."
        ),
        "not_found_help": "Ville du abonnere? Så kan du starte forfra.",
        "bad_request_title": "Formularen er udløbet",
        "bad_request_body": (
            "Af sikkerhedshensyn kunne formularen ikke sendes. Gå tilbage, genindlæs siden og "
            "prøv igen."
        ),
        "too_many_title": "For mange forsøg",
        "too_many_body": "Vent lidt, og prøv igen.",
        "error_title": "Noget gik galt",
        "error_body": "Prøv igen om lidt.",
        "unsub_title": "Afmeld abonnement",
        "unsub_question": "Vil du holde op med at modtage {list}?",
        "unsub_address": "Adresse: {email}",
        "unsub_button": "Afmeld",
        "unsub_all_button": "Afmeld alle nyhedsbreve",
        "unsub_done_title": "Du er afmeldt",
        "unsub_done_body": "Du modtager ikke længere {list}. Ændringen gælder med det samme.",
        "unsub_all_done_body": (
            "Du modtager ikke længere nogen af vores nyhedsbreve. Ændringen gælder med det samme."
        ),
        "unsub_still": "Du modtager stadig {lists}.",
        "unsub_already": "Du abonnerer ikke på {list}.",
        "unsub_mistake": "Afmeldt ved en fejl?",
        "resubscribe_button": "Abonnér på {list} igen",
        "resub_done_title": "Velkommen tilbage",
        "resub_done_body": "Du modtager {list} igen.",
        "sub_title": "Abonnér på vores nyhedsbrev",
        "sub_intro": (
            "Få nyheder fra {site} på e-mail. Vi sender dig et link, så du kan bekræfte din "
            "adresse."
        ),
        "field_email": "E-mailadresse",
        "field_name": "Navn",
        "optional": "valgfrit",
        "field_language": "Sprog",
        "field_lists": "Nyhedsbreve",
        "sub_consent": (
            "Når du abonnerer, giver du samtykke til, at {site} gemmer din e-mailadresse, dit navn "
            "og dit sprogvalg for at sende dig {lists}. Du kan til enhver tid afmelde dig via "
            "linket i hver e-mail og se eller slette dine oplysninger under »Mit abonnement«. Vi "
            "gemmer, hvornår og hvordan du tilmeldte dig."
        ),
        "sub_button": "Abonnér",
        "honeypot_label": "Lad dette felt være tomt",
        "err_email": "Skriv en gyldig e-mailadresse, for eksempel navn@eksempel.dk.",
        "err_lists": "Vælg mindst ét nyhedsbrev.",
        "err_summary": "Ret de markerede felter.",
        "sub_done_title": "Se i din indbakke",
        "sub_done_body": (
            "Hvis {email} kan modtage vores nyhedsbrev, har vi sendt en e-mail dertil med et link "
            "til at bekræfte. Linket virker i {hours} timer."
        ),
        "sub_done_hint": (
            "Er der ikke kommet noget? Se i spamfilteret, eller prøv igen om nogle minutter."
        ),
        "no_lists": "Der er ikke noget at abonnere på lige nu.",
        "confirm_title": "Bekræft dit abonnement",
        "confirm_body": "Tryk på knappen for at begynde at modtage {lists}.",
        "confirm_button": "Bekræft abonnement",
        "confirmed_title": "Tak, nu abonnerer du",
        "confirmed_body": (
            "Dit abonnement er bekræftet. I hver e-mail er der links til at rette dine "
            "oplysninger eller afmelde dig."
        ),
        "confirm_invalid_title": "Linket er udløbet",
        "confirm_invalid_body": (
            "Et bekræftelseslink virker én gang og i en begrænset tid. Dette link er udløbet "
            "eller allerede brugt."
        ),
        "start_again": "Tilmeld dig igen",
        "prefs_title": "Mit abonnement",
        "prefs_intro": "Abonnement for {email}.",
        "prefs_saved": "Dine ændringer er gemt.",
        "prefs_save_button": "Gem ændringer",
        "prefs_lists_hint": "Fjern fluebenet ved et nyhedsbrev for at holde op med at modtage det.",
        "prefs_data_title": "Dine oplysninger",
        "prefs_data_body": (
            "Vi sender dig et link, hvor du kan hente alt, hvad vi har gemt om dig: dine "
            "oplysninger, abonnementer, samtykker og de udsendelser, du har fået."
        ),
        "prefs_download_button": "Send mig mine oplysninger",
        "export_sent_title": "Se i din indbakke",
        "export_sent_body": (
            "Vi har sendt et link til at hente dine oplysninger til {email}. Linket virker i "
            "{minutes} minutter."
        ),
        "export_sent_hint": (
            "Er der ikke kommet noget? Se i spamfilteret. Du kan bede om et nyt link efter "
            "{wait} minutter."
        ),
        "export_back": "Tilbage til mit abonnement",
        "export_title": "Hent dine oplysninger",
        "export_body": (
            "Hent alt, hvad vi har gemt om {email}: oplysninger, abonnementer, samtykker og de "
            "udsendelser, du har fået, som en JSON-fil."
        ),
        "export_hint": "Linket virker én gang og i en begrænset tid.",
        "export_button": "Hent mine oplysninger (JSON)",
        "export_mail_subject": "Hent dine oplysninger",
        "export_mail_body": (
            "Hej!\n\n"
            "Nogen, forhåbentlig dig, har bedt om en kopi af de oplysninger, {sender} har gemt "
            "om {email}.\n\n"
            "Åbn linket, og klik på knappen Hent:\n\n"
            "{url}\n\n"
            "Linket virker én gang og i {minutes} minutter. Var det ikke dig, skal du ikke gøre "
            "noget: oplysningerne sendes kun til denne adresse. (En, som du har videresendt et "
            "nyhedsbrev til, kan have trykket på knappen.)\n\n"
            "Venlig hilsen\n{sender}\n"
        ),
        "prefs_erase_title": "Slet mig",
        "prefs_erase_body": (
            "Fjern dine oplysninger og abonnementer. Vi beholder kun et ulæseligt fingeraftryk af "
            "din adresse, så vi aldrig skriver til dig igen ved en fejl."
        ),
        "prefs_erase_link": "Slet mig …",
        "erase_ask_body": (
            "For at være sikre på, at det er dig, sender vi et link til din adresse. Intet "
            "slettes, før du har åbnet linket og bekræftet."
        ),
        "erase_mail_button": "Send mig et link til at slette mine oplysninger",
        "erase_sent_body": (
            "Vi har sendt et link til at slette dine oplysninger til {email}. Linket virker i "
            "{minutes} minutter. Intet slettes, før du åbner det og bekræfter."
        ),
        "erase_mail_subject": "Slet dine oplysninger",
        "erase_mail_body": (
            "Hej!\n\n"
            "Nogen, forhåbentlig dig, har bedt om at få slettet de oplysninger, {sender} har "
            "gemt om {email}. Så fjernes dine oplysninger og abonnementer, og du får ikke flere "
            "e-mails fra os.\n\n"
            "Åbn linket, og klik på knappen »Ja, slet mig« for at slette dem:\n\n"
            "{url}\n\n"
            "Linket virker én gang og i {minutes} minutter. Gør du ingenting, sker der ingenting: "
            "dine oplysninger og abonnementer forbliver, som de er. (En, som du har videresendt "
            "et nyhedsbrev til, kan have trykket på knappen.)\n\n"
            "Venlig hilsen\n{sender}\n"
        ),
        "erase_title": "Slet alle dine oplysninger?",
        "erase_body": "Det fjerner {email}, dit navn og dine abonnementer. Det kan ikke fortrydes.",
        "erase_button": "Ja, slet mig",
        "erase_hint": (
            "Linket virker én gang og i en begrænset tid. Lukker du siden, slettes intet."
        ),
        "erase_cancel": "Annullér",
        "erased_title": "Dine oplysninger er slettet",
        "erased_body": "Vi har slettet dine oplysninger, og du får ikke flere e-mails fra os.",
        "archive_title": "Arkiv",
        "archive_intro": "Numre, vi har sendt ud.",
        "archive_empty": "Der er ikke sendt nogen numre ud endnu.",
        "archive_issue": "Nummer {number}",
    },
}


def translate(language: str, key: str, **kw: object) -> str:
    """The page text `key` in `language` (Swedish for an unknown one), formatted with `kw`.

    Values are formatted into the plain text; the template's autoescape escapes the result.
    """
    table = STRINGS.get(language, STRINGS[LANGUAGES[0]])
    text = table[key]
    return text.format(**kw) if kw else text


def join_names(language: str, names: list[str]) -> str:
    """'A', 'A and B', 'A, B and C' in the page's language."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {translate(language, 'and')} {names[-1]}"
