"""Every string a person reads in Danish: emails, web pages and service mails."""

from __future__ import annotations

# Position in language lists (forms, messages); the first is the web pages' default.
ORDER = 2

STRINGS: dict[str, str] = {
    # Emails: the templates (templates/email, templates/text) and dates in them
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
    "click_counting_note": (
        "Linkene i dette brev går via vores server, som tæller hvor mange gange hvert link bliver"
        " fulgt, samlet for alle modtagere. Vi gemmer intet om, hvem der klikker: ingen kobling "
        "til din adresse og ingen IP-adresse."
    ),
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
    "date": "{day}. {month} {year}",
    "day": "{day}.",
    "why_you_receive_same": "Du modtager dette nyhedsbrev, fordi du abonnerer på {list}.",
    # Invitations and calendar files (issue.md `invitation:`, the events layout)
    "invitation": "Invitation",
    "organiser": "Arrangør",
    "attachments": "Vedhæftede filer",
    "add_to_calendar": "Tilføj til kalender",
    "weekdays": "mandag tirsdag onsdag torsdag fredag lørdag søndag",
    "weekday_date": "{weekday} {date}",
    "clock_time": "{hour}.{minute}",
    "clock_span": "kl. {start}–{end}",
    "clock_at": "kl. {time}",
    # Web pages (templates/web) and the mailed-link mails sent from them
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
    "busy_title": "Ikke gemt, prøv igen",
    "busy_body": "Vi kunne ikke gemme det lige nu. Intet er gemt: prøv igen om et minut.",
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
        "Få nyheder fra {site} på e-mail. Vi sender dig et link, så du kan bekræfte din adresse."
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
    "form_refused_title": "Tilmeldingen kunne ikke modtages",
    "form_out_of_date": (
        "Formularen er forældet. Genindlæs siden, eller tilmeld dig på vores egen side."
    ),
    "form_challenge_failed": (
        "Tilmeldingen kunne ikke kontrolleres. Genindlæs siden og prøv igen "
        "(JavaScript er nødvendigt)."
    ),
    "form_done": "Tak! Se i din indbakke: vi har sendt et link, der bekræfter tilmeldingen.",
    "form_working": "Et øjeblik …",
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
    "erase_hint": ("Linket virker én gang og i en begrænset tid. Lukker du siden, slettes intet."),
    "erase_cancel": "Annullér",
    "erased_title": "Dine oplysninger er slettet",
    "erased_body": "Vi har slettet dine oplysninger, og du får ikke flere e-mails fra os.",
    "archive_title": "Arkiv",
    "archive_intro": "Numre, vi har sendt ud.",
    "archive_empty": "Der er ikke sendt nogen numre ud endnu.",
    "archive_issue": "Nummer {number}",
    "feed_all": "Hele arkivet som feed (Atom)",
    "feed_list": "{list} som feed (Atom)",
    # The confirmation mail of double opt-in (part of the consent record's context:
    # change it deliberately, and look at tests/test_optin.py)
    "confirm_mail_subject": "Bekræft dit abonnement",
    # one sentence naming the lists a confirmation is for (after the address)
    "confirm_mail_lists": "Det gælder: {lists}.",
    "confirm_mail_body": (
        "Hej!\n\n"
        "Nogen, forhåbentlig dig, har bedt om at få nyhedsbreve fra {sender} "
        "på adressen {email}.{lists_line}\n\n"
        "Bekræft ved at åbne linket og klikke på knappen Bekræft:\n\n"
        "{url}\n\n"
        "Linket virker i {hours} timer. Var det ikke dig, skal du ikke gøre noget: "
        "vi sender ikke mere og sletter oplysningen efter {days} dage.\n\n"
        "Venlig hilsen\n{sender}\n"
    ),
    # a notice when reports that prove nothing (no VERP token) pile up (bounces/unverified.py)
    "bounce_notice_subject": "Er vores nyhedsbreve nået frem til dig?",
    "bounce_notice_body": (
        "Hej!\n\n"
        "På {days} forskellige dage for nylig har vi modtaget rapporter om, at nyhedsbreve fra "
        "{sender} ({list}) ikke kunne leveres til {email}.\n\n"
        "Sådanne rapporter kan hvem som helst skrive, så intet er ændret: du er stadig "
        "tilmeldt, og da denne besked nåede frem til dig, skal du ikke gøre noget.\n\n"
        "Ønsker du ikke længere nyhedsbrevet, så brug afmeldingslinket i et hvilket som helst "
        "nummer.\n\n"
        "Venlig hilsen\n{sender}\n"
    ),
    # newsletter report (the funder's report): table headings and chart titles
    "report_issues": "Udsendelser",
    "report_issue": "Nummer",
    "report_date": "Dato",
    "report_list": "Liste",
    "report_delivered": "Leveret",
    "report_failed": "Mislykket",
    "report_hard": "Afvist (hårdt)",
    "report_soft": "Afvist (blødt)",
    "report_complaints": "Klager",
    "report_unsub_7d": "Afmeldt inden for 7 dage",
    "report_clicks": "Klik",
    "report_links": "Klik pr. link",
    "report_link": "Link",
    "report_address": "Adresse",
    "report_months": "Pr. måned",
    "report_month": "Måned",
    "report_size": "Abonnenter ved månedens udgang",
    "report_sign_ups": "Nye abonnenter",
    "report_unsubscriptions": "Afmeldinger",
    "report_title_delivered": "Leveret pr. udsendelse",
    "report_title_clicks": "Klik på links pr. udsendelse",
    "report_title_size": "Abonnenter ved udgangen af hver måned",
    "report_title_flow": "Nye abonnenter og afmeldinger pr. måned",
    "report_title": "Rapport til bevillingsgiveren",
    "report_no_database": (
        "Der er ingen abonnentdatabase på denne computer ({path}), så der er intet at tælle "
        "her. Kør `newsletter report` der, hvor listen er (serveren)."
    ),
    "report_empty": "Intet at rapportere endnu: intet nummer er sendt, og ingen abonnerer.",
    "report_counts_only": (
        "Kun antal: intet om nogen person. docs/report.md forklarer hvert tal og dets grænser."
    ),
}
