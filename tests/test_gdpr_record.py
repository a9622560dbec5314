"""`newsletter gdpr record`: the Art. 30 record filled from newsletter.yml, the settings and the
schema as it is, with no personal data in it."""

from __future__ import annotations

from click.testing import CliRunner

from cli import cli
from mailer.audience import fields
from mailer.audience.consent import erase_subscriber
from mailer.audience.roster import add_subscriber
from mailer.audience.subscribers import get_subscriber
from mailer.store.db import transaction

from .fixtures_subscribers import SECRET


def test_the_record_describes_this_installation_without_personal_data(db, settings, tmp_path):
    newsletters = tmp_path / "newsletters"
    newsletters.mkdir()
    (newsletters / "newsletter.yml").write_text(
        "organisation: Föreningen Exempel\naddress: Storgatan 1, 702 10 Örebro\n"
        "email: info@exempel.se\nphone: 019-12 34 56\n",
        encoding="utf-8",
    )
    with transaction(db):
        add_subscriber(db, settings, "anna@exempel.se", name="Anna Berg", list_name="nyhetsbrev")
        add_subscriber(db, settings, "bo@exempel.se", name="Bo", list_name="nyhetsbrev")
        person = get_subscriber(db, "anna@exempel.se")["id"]
        fields.set_fields(db, person, {"län": "Örebro", "organisation": "Bygdegården"})
        # a table a newer version might add, holding something per person
        db.execute(
            "CREATE TABLE event_signups (id INTEGER PRIMARY KEY, subscriber_id INTEGER, kind TEXT)"
        )
    erase_subscriber(db, settings, "bo@exempel.se")
    environment = {
        "NEWSLETTER_SECRET_KEY": SECRET,
        "SMTP_HOST": "smtp.office365.com",
        "SMTP_PORT": "587",
        "SMTP_USERNAME": "utskick@exempel.se",
        "SMTP_PASSWORD": "hemligt-lösenord",
        "NEWSLETTER_BASE_URL": "https://nyhetsbrev.exempel.se",
        "NEWSLETTER_PENDING_RETENTION_DAYS": "21",
        "NEWSLETTER_CONFIRM_TTL_HOURS": "24",
    }
    result = CliRunner().invoke(
        cli,
        ["--db", str(settings.db_path), "gdpr", "record", "--newsletters", str(newsletters)],
        env=environment,
    )
    assert result.exit_code == 0, result.output
    record = result.output
    assert record.startswith("# Record of processing activities: newsletter of Föreningen Exempel")
    for heading in (
        "## Controller",
        "## Purposes of the processing",
        "## Categories of data subjects",
        "## Categories of personal data (from the database schema)",
        "## Recipients",
        "## Transfers to third countries",
        "## Retention",
        "## Erasure (Art. 17)",
        "## Technical and organisational security measures (Art. 32)",
    ):
        assert f"\n{heading}\n" in record
    assert "- Address: Storgatan 1, 702 10 Örebro" in record
    assert "`nyhetsbrev`: nyhetsbrev (1 active)" in record
    assert "The SMTP relay `smtp.office365.com` (port 587, STARTTLS)" in record
    assert "deleted after 21 days" in record and "valid for 24 hours" in record
    assert "fields in use: `län`, `organisation`" in record
    assert "`event_signups`: id, subscriber_id, kind" in record  # read from the schema
    assert "is served over HTTPS (https://nyhetsbrev.exempel.se)" in record
    # the bases the consent log actually records: consent, and the erasure's own record
    assert "Lawful basis: consent, Art. 6(1)(a); legal obligation, Art. 6(1)(c)." in record
    # every table of the schema that points at a person is described
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        columns = {c.name for c in db[table].columns}
        if "subscriber_id" in columns or "email" in columns:
            assert f"`{table}`" in record, table
    # no personal data, no secret
    for private in ("anna@exempel.se", "Anna Berg", "Bygdegården", "hemligt", "utskick@"):
        assert private not in record


def test_without_newsletter_yml_the_controller_is_left_to_fill_in(settings, db, tmp_path):
    result = CliRunner().invoke(
        cli,
        ["--db", str(settings.db_path), "gdpr", "record", "--newsletters", str(tmp_path)],
        env={"NEWSLETTER_SECRET_KEY": SECRET},
    )
    assert result.exit_code == 0, result.output
    assert "- Name: *(to fill in)*" in result.output


def test_a_phone_number_in_newsletter_yml_is_printed_as_written(settings, db, tmp_path):
    """`phone: 0704331711` is text, as in the built emails, never the octal number 118600649."""
    newsletters = tmp_path / "newsletters"
    newsletters.mkdir()
    (newsletters / "newsletter.yml").write_text(
        "organisation: Föreningen Exempel\nphone: 0704331711\nweb: on\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        cli,
        ["--db", str(settings.db_path), "gdpr", "record", "--newsletters", str(newsletters)],
        env={"NEWSLETTER_SECRET_KEY": SECRET},
    )
    assert result.exit_code == 0, result.output
    assert "0704331711" in result.output and "118600649" not in result.output


def test_a_broken_newsletter_yml_names_its_line_in_the_record_command(settings, db, tmp_path):
    newsletters = tmp_path / "newsletters"
    newsletters.mkdir()
    (newsletters / "newsletter.yml").write_text(
        "organisation: Föreningen Exempel\naddress Storgatan 1\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        cli,
        ["--db", str(settings.db_path), "gdpr", "record", "--newsletters", str(newsletters)],
        env={"NEWSLETTER_SECRET_KEY": SECRET},
    )
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "newsletter.yml:2:" in result.output and "no ':' after its key" in result.output
