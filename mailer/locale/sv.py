"""Every string a person reads in Swedish: emails, web pages and service mails."""

from __future__ import annotations

# Position in language lists (forms, messages); the first is the web pages' default.
ORDER = 1

STRINGS: dict[str, str] = {
    # Emails: the templates (templates/email, templates/text) and dates in them
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
    "click_counting_note": (
        "Länkarna i det här brevet går via vår server, som räknar hur många gånger varje länk "
        "följs, sammanlagt för alla mottagare. Vi sparar ingenting om vem som klickar: ingen "
        "koppling till din adress och ingen IP-adress."
    ),
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
    "date": "{day} {month} {year}",
    "day": "{day}",
    "why_you_receive_same": "Du får det här nyhetsbrevet eftersom du prenumererar på {list}.",
    # Invitations and calendar files (issue.md `invitation:`, the events layout)
    "invitation": "Inbjudan",
    "organiser": "Arrangör",
    "attachments": "Bifogade filer",
    "add_to_calendar": "Lägg till i kalendern",
    "weekdays": "måndag tisdag onsdag torsdag fredag lördag söndag",
    "weekday_date": "{weekday} {date}",
    "clock_time": "{hour}.{minute}",
    "clock_span": "kl. {start}–{end}",
    "clock_at": "kl. {time}",
    # Web pages (templates/web) and the mailed-link mails sent from them
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
    "busy_title": "Inte sparat, försök igen",
    "busy_body": "Vi kunde inte spara det just nu. Inget har sparats: försök igen om en minut.",
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
        "Få nyheter från {site} via e-post. Vi skickar en länk så att du kan bekräfta din adress."
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
    "form_refused_title": "Anmälan kunde inte tas emot",
    "form_out_of_date": (
        "Formuläret är inaktuellt. Ladda om sidan, eller anmäl dig på vår egen sida."
    ),
    "form_challenge_failed": (
        "Anmälan kunde inte kontrolleras. Ladda om sidan och försök igen (JavaScript behövs)."
    ),
    "form_done": "Tack! Titta i din inkorg: vi har skickat en länk som bekräftar anmälan.",
    "form_working": "Ett ögonblick …",
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
        "Länken fungerar en gång och under en begränsad tid. Stänger du sidan raderas ingenting."
    ),
    "erase_cancel": "Avbryt",
    "erased_title": "Dina uppgifter är raderade",
    "erased_body": "Vi har raderat dina uppgifter, och du får inga fler mejl från oss.",
    "archive_title": "Arkiv",
    "archive_intro": "Nummer som vi har skickat ut.",
    "archive_empty": "Inga nummer har skickats ut än.",
    "archive_issue": "Nummer {number}",
    "feed_all": "Hela arkivet som flöde (Atom)",
    "feed_list": "{list} som flöde (Atom)",
    # The confirmation mail of double opt-in (part of the consent record's context:
    # change it deliberately, and look at tests/test_optin.py)
    "confirm_mail_subject": "Bekräfta din prenumeration",
    # one sentence naming the lists a confirmation is for (after the address)
    "confirm_mail_lists": "Det gäller: {lists}.",
    "confirm_mail_body": (
        "Hej!\n\n"
        "Någon, förhoppningsvis du, har bett om att få nyhetsbrev från {sender} "
        "till adressen {email}.{lists_line}\n\n"
        "Bekräfta genom att öppna länken och klicka på knappen Bekräfta:\n\n"
        "{url}\n\n"
        "Länken gäller i {hours} timmar. Var det inte du behöver du inte göra något: "
        "vi skickar inget mer och raderar uppgiften efter {days} dagar.\n\n"
        "Hälsningar\n{sender}\n"
    ),
    # a notice when reports that prove nothing (no VERP token) pile up (bounces/unverified.py)
    "bounce_notice_subject": "Har våra nyhetsbrev kommit fram till dig?",
    "bounce_notice_body": (
        "Hej!\n\n"
        "Under {days} olika dagar nyligen har vi fått rapporter om att nyhetsbrev från "
        "{sender} ({list}) inte kunde levereras till {email}.\n\n"
        "Sådana rapporter kan vem som helst skriva, så ingenting har ändrats: du är fortfarande "
        "prenumerant, och eftersom det här meddelandet nådde dig behöver du inte göra något.\n\n"
        "Vill du inte längre ha nyhetsbrevet, använd avregistreringslänken i valfritt nummer.\n\n"
        "Hälsningar\n{sender}\n"
    ),
    # newsletter report (the funder's report): table headings and chart titles
    "report_issues": "Utskick",
    "report_issue": "Nummer",
    "report_date": "Datum",
    "report_list": "Lista",
    "report_delivered": "Levererade",
    "report_failed": "Misslyckade",
    "report_hard": "Studsar (hårda)",
    "report_soft": "Studsar (mjuka)",
    "report_complaints": "Klagomål",
    "report_unsub_7d": "Avregistrerade inom 7 dagar",
    "report_clicks": "Klick",
    "report_links": "Klick per länk",
    "report_link": "Länk",
    "report_address": "Adress",
    "report_months": "Per månad",
    "report_month": "Månad",
    "report_size": "Prenumeranter vid månadens slut",
    "report_sign_ups": "Nya prenumeranter",
    "report_unsubscriptions": "Avregistreringar",
    "report_title_delivered": "Levererade per utskick",
    "report_title_clicks": "Klick på länkar per utskick",
    "report_title_size": "Prenumeranter vid varje månads slut",
    "report_title_flow": "Nya prenumeranter och avregistreringar per månad",
    "report_title": "Rapport till finansiären",
    "report_no_database": (
        "Det finns ingen prenumerantdatabas på den här datorn ({path}), så det finns inget att "
        "räkna här. Kör `newsletter report` där listan finns (servern)."
    ),
    "report_empty": "Inget att rapportera ännu: inget nummer har skickats och ingen prenumererar.",
    "report_counts_only": (
        "Bara antal: ingenting om någon person. docs/report.md förklarar varje siffra och dess "
        "gränser."
    ),
}
