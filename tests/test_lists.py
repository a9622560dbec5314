"""Lists as the coordinator sets them up: titles, and private lists strangers never see."""

from __future__ import annotations

import pytest

from mailer.audience.lists import configure_list, list_settings
from mailer.errors import SubscriberError
from tests.fixtures_web import make_person, statuses
from tests.test_web_preferences import open_form
from tests.test_web_subscribe import sign_up


def test_configure_list_creates_titles_and_hides_a_list(db):
    configure_list(db, "nyhetsbrev", title="Nyhetsbrev från partnerskapet")
    hidden = configure_list(db, "test", public=False)
    assert (hidden.name, hidden.title, hidden.public) == ("test", None, False)
    shown = [(s.name, s.title, s.public) for s in list_settings(db)]
    assert shown == [("nyhetsbrev", "Nyhetsbrev från partnerskapet", True), ("test", None, False)]
    configure_list(db, "test", public=True)  # and back; the title is left as it was
    assert [s.public for s in list_settings(db)] == [True, True]


def test_a_title_with_a_line_break_is_refused_and_nothing_changes(db):
    configure_list(db, "nyhetsbrev", title="Nyhetsbrev")
    with pytest.raises(SubscriberError, match="list nyhetsbrev: the title is refused"):
        configure_list(db, "nyhetsbrev", title="Nyhetsbrev\r\nBcc: x@example.se")
    assert list_settings(db)[0].title == "Nyhetsbrev"


def test_the_lists_command_shows_creates_and_changes_lists(run_cli):
    empty = run_cli("subscribers", "lists")
    assert empty.exit_code == 0 and "No lists yet" in empty.output
    made = run_cli("subscribers", "lists", "test", "--private", "--title", "Provutskick")
    assert made.exit_code == 0
    assert made.output.strip() == "test  'Provutskick'  (private: not offered; nobody yet)"
    assert run_cli("subscribers", "add", "a@example.se", "--list", "test").exit_code == 0
    shown = run_cli("subscribers", "lists")
    assert "test  'Provutskick'  (private: not offered; 1 active)" in shown.output
    usage = run_cli("subscribers", "lists", "--private")
    assert usage.exit_code == 2 and "give the NAME" in usage.output


def test_strangers_are_never_offered_a_private_list(client, db, lists):
    configure_list(db, "kalender", public=False)
    db.conn.commit()
    page = client.get("/subscribe").get_data(as_text=True)
    assert 'value="nyhetsbrev"' in page and 'value="kalender"' not in page
    assert "Kalendariet" not in page  # not even in the consent text
    assert client.get("/subscribe/kalender").status_code == 404
    sign_up(client, email="nils@example.se", lists=["nyhetsbrev", "kalender"])
    assert statuses(db, db.execute("SELECT id FROM subscribers").fetchone()[0]) == {
        "nyhetsbrev": "pending"
    }


def test_preferences_show_a_private_list_only_to_people_on_it(client, db, settings, lists):
    configure_list(db, "kalender", public=False)
    member = make_person(db, settings, "anna@example.se", lists=("nyhetsbrev", "kalender"))
    outsider = make_person(db, settings, "bo@example.se", lists=("nyhetsbrev",))
    db.conn.commit()
    assert 'value="kalender"' in client.get(f"/preferences/{member.preferences}").get_data(
        as_text=True
    )
    page = client.get(f"/preferences/{outsider.preferences}").get_data(as_text=True)
    assert 'value="kalender"' not in page

    token = open_form(client, outsider)  # a forged tick of the private list changes nothing
    client.post(
        f"/preferences/{outsider.preferences}",
        data={"csrf_token": token, "name": "Bo", "lists": ["nyhetsbrev", "kalender"]},
    )
    assert statuses(db, outsider.id) == {"nyhetsbrev": "active"}
    token = open_form(client, member)  # the member can leave it
    client.post(
        f"/preferences/{member.preferences}",
        data={"csrf_token": token, "name": "Anna", "lists": ["nyhetsbrev"]},
    )
    assert statuses(db, member.id) == {"nyhetsbrev": "active", "kalender": "unsubscribed"}
