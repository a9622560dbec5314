"""Every string a person reads in English: emails, web pages and service mails."""

from __future__ import annotations

# Position in language lists (forms, messages); the first is the web pages' default.
ORDER = 3

STRINGS: dict[str, str] = {
    # Emails: the templates (templates/email, templates/text) and dates in them
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
    "click_counting_note": (
        "The links in this email go through our server, which counts how often each link is "
        "followed, in total for all readers. We keep nothing about who clicks: no link to your "
        "address and no IP address."
    ),
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
    "date": "{day} {month} {year}",
    "day": "{day}",
    "why_you_receive_same": "You receive this newsletter because you subscribe to {list}.",
    # Invitations and calendar files (issue.md `invitation:`, the events layout)
    "invitation": "Invitation",
    "organiser": "Organiser",
    "attachments": "Attachments",
    "add_to_calendar": "Add to calendar",
    "weekdays": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    "weekday_date": "{weekday} {date}",
    "clock_time": "{hour}:{minute}",
    "clock_span": "{start}–{end}",
    "clock_at": "{time}",
    # Web pages (templates/web) and the mailed-link mails sent from them
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
    "busy_title": "Not saved, please try again",
    "busy_body": "We could not save this just now. Nothing was stored: try again in a minute.",
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
    "form_refused_title": "The sign-up could not be accepted",
    "form_out_of_date": "This form is out of date. Reload the page, or sign up on our own page.",
    "form_challenge_failed": (
        "The sign-up could not be checked. Reload the page and try again (JavaScript is needed)."
    ),
    "form_done": "Thank you! Look in your inbox: we have sent a link that confirms the sign-up.",
    "form_working": "One moment …",
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
        "Nothing arrived? Look in the spam folder. You can ask for a new link after {wait} minutes."
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
    "erase_body": ("This removes {email}, your name and your subscriptions. It cannot be undone."),
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
    "feed_all": "The whole archive as a feed (Atom)",
    "feed_list": "{list} as a feed (Atom)",
    # The confirmation mail of double opt-in (part of the consent record's context:
    # change it deliberately, and look at tests/test_optin.py)
    "confirm_mail_subject": "Please confirm your subscription",
    # one sentence naming the lists a confirmation is for (after the address)
    "confirm_mail_lists": "The request is for: {lists}.",
    "confirm_mail_body": (
        "Hello,\n\n"
        "Someone, hopefully you, asked to receive newsletters from {sender} "
        "at the address {email}.{lists_line}\n\n"
        "To confirm, open the link and press the Confirm button:\n\n"
        "{url}\n\n"
        "The link works for {hours} hours. If this was not you, there is nothing to do: "
        "we will send nothing more and delete the request after {days} days.\n\n"
        "Kind regards\n{sender}\n"
    ),
    # a notice when reports that prove nothing (no VERP token) pile up (bounces/unverified.py)
    "bounce_notice_subject": "Were our newsletters delivered to you?",
    "bounce_notice_body": (
        "Hello,\n\n"
        "On {days} different days recently we received reports saying that newsletters from "
        "{sender} ({list}) could not be delivered to {email}.\n\n"
        "Such reports can be written by anyone, so nothing has changed: you are still "
        "subscribed, and since this message reached you, there is nothing you need to do.\n\n"
        "If you no longer want the newsletter, use the unsubscribe link in any issue.\n\n"
        "Kind regards\n{sender}\n"
    ),
    # newsletter report (the funder's report): table headings and chart titles
    "report_issues": "Issues",
    "report_issue": "Issue",
    "report_date": "Date",
    "report_list": "List",
    "report_delivered": "Delivered",
    "report_failed": "Failed",
    "report_hard": "Bounced (hard)",
    "report_soft": "Bounced (soft)",
    "report_complaints": "Complaints",
    "report_unsub_7d": "Unsubscribed within 7 days",
    "report_clicks": "Clicks",
    "report_links": "Clicks per link",
    "report_link": "Link",
    "report_address": "Address",
    "report_months": "Per month",
    "report_month": "Month",
    "report_size": "Subscribers at month end",
    "report_sign_ups": "Sign-ups",
    "report_unsubscriptions": "Unsubscriptions",
    "report_title_delivered": "Delivered per issue",
    "report_title_clicks": "Link clicks per issue",
    "report_title_size": "Subscribers at the end of each month",
    "report_title_flow": "Sign-ups and unsubscriptions per month",
    "report_title": "Report for the funder",
    "report_no_database": (
        "There is no subscriber database on this computer ({path}), so there is nothing to "
        "count here. Run `newsletter report` where the list is (the server)."
    ),
    "report_empty": "Nothing to report yet: no issue has been sent and nobody has subscribed.",
    "report_counts_only": (
        "Counts only: nothing about any person. docs/report.md explains each figure and its limits."
    ),
}
