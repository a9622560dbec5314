"""The `newsletter` command: parses options, loads settings, calls one library function, prints.

No SQL, Jinja or SMTP here; everything a command does lives in the `mailer` package, where
tests call it directly. Library errors (`MailerError`) become a message and a non-zero exit.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from mailer.config import (
    DEFAULT_LIST,
    ENV_FILE_NAME,
    Settings,
    find_project_root,
    load_settings,
)
from mailer.errors import MailerError
from mailer.locale import LANGUAGES


class MailerGroup(click.Group):
    """A group that turns library errors into `Error: ...` and their exit code, and lists its
    commands with their whole first sentence (Click cuts it at about 45 characters)."""

    group_class = type  # subgroups (`subscribers`) are MailerGroups too

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MailerError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except Exception as exc:  # a full disk met outside the library's own checks
            from mailer.store.db import storage_fault

            fault = storage_fault(exc)
            if fault is None:
                raise
            click.echo(f"Error: {fault}", err=True)
            ctx.exit(fault.exit_code)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from click.utils import make_default_short_help

        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            text = command.short_help or make_default_short_help(command.help or "", 10_000)
            rows.append((name, text))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def get_settings(ctx: click.Context, **overrides) -> Settings:
    """Settings from defaults, `.env`, the environment, then this command's options.

    `.env` is the project root's unless --env-file names another (which must exist); a missing
    `.env` is said once, on stderr, so defaults never apply silently.
    """
    obj = ctx.find_root().obj or {}
    layered = {**obj.get("overrides", {}), **overrides}
    env_file = obj.get("env_file")
    settings = load_settings(
        layered, env_file=env_file or ENV_FILE_NAME, require_env_file=env_file is not None
    )
    if settings.env_file is None and not obj.get("told_no_env"):
        obj["told_no_env"] = True
        click.echo(
            f"Note: no {ENV_FILE_NAME} in {settings.project_root}: settings come from the "
            "environment and defaults (`newsletter config` shows each and where it came from).",
            err=True,
        )
    return settings


@click.group(cls=MailerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--env-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read settings from this file instead of the project's .env (the environment wins "
    "over it).",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Subscriber database (overrides NEWSLETTER_DB).",
)
@click.version_option(package_name="newsletter")
@click.pass_context
def cli(ctx: click.Context, env_file: Path | None, db_path: Path | None) -> None:
    """Write, preview and mail newsletters, and keep the subscriber list lawful.

    The project folder is found like git finds its repository: the nearest folder, from here
    upwards, holding newsletters/, .env or newsletter.yml. Its .env is read, and
    NEWSLETTER_DB and issue folders are found there, from any subfolder.

    \b
    Example:
      newsletter new 2026-3 && newsletter build 2026-3
    """
    ctx.obj = {
        "env_file": env_file,
        "overrides": {"db_path": db_path.resolve() if db_path else None},
    }


class IssueDir(click.ParamType):
    """An issue folder: as given, else under the project root or its newsletters/ folder, so
    `newsletter build 2026-3` works from anywhere in the project."""

    name = "ISSUE_DIR"

    def convert(self, value, param, ctx):
        if isinstance(value, Path) and value.is_dir():
            return value
        given = Path(value)
        if given.is_dir():
            return given
        root = find_project_root()
        tried = [given] if given.is_absolute() else [given, root / given]
        if not given.is_absolute():
            tried.append(root / "newsletters" / given)
        for candidate in tried[1:]:
            if candidate.is_dir():
                return candidate
        looked = ", ".join(str(p) for p in dict.fromkeys(tried))
        self.fail(f"issue folder {value!r} does not exist (looked for {looked})", param, ctx)


issue_dir_argument = click.argument("issue_dir", type=IssueDir())


@cli.command("config", short_help="Show every setting, its value and where it came from.")
@click.option(
    "--dns",
    "show_dns",
    is_flag=True,
    help="Print the SPF, DKIM and DMARC records to publish for the sender's domain.",
)
@click.pass_context
def config_command(ctx: click.Context, show_dns: bool) -> None:
    """Show the effective settings: the project folder, the settings file read, and for every
    setting its value (secrets masked) and its source: default, .env, environment or option.
    With --dns, print the DNS records the settings call for, as zone-file lines.

    \b
    Example:
      newsletter config
      newsletter --env-file production.env config
      newsletter config --dns
    """
    from mailer.config import describe_settings

    settings = get_settings(ctx)
    if show_dns:
        from mailer.delivery.dns_records import format_dns_records

        click.echo(format_dns_records(settings))
        return
    click.echo(f"Project folder: {settings.project_root}")
    click.echo(f"Settings file:  {settings.env_file or '(none: no .env found)'}")
    if settings.server_url:
        from mailer.remote.client import describe_server

        click.echo(describe_server(settings))
    rows = describe_settings(settings)
    width = max(len(name) for name, _, _ in rows)
    for name, value, source in rows:
        click.echo(f"{name:<{width}}  {value}  [{source}]")


# --- compose: build, new -------------------------------------------------------------------


@cli.command()
@issue_dir_argument
@click.option("--base-url", help="Public address of the archive (overrides NEWSLETTER_BASE_URL).")
@click.option(
    "--pdf",
    "make_pdf",
    is_flag=True,
    help="Also print the web version to build/issue.pdf (A4, links kept; needs Chromium).",
)
@click.pass_context
def build(ctx: click.Context, issue_dir: Path, base_url: str | None, make_pdf: bool) -> None:
    """Build ISSUE_DIR into ISSUE_DIR/build/: email.html, email.txt, web.html, meta.json, images.

    Example: newsletter build newsletters/2018-2 --pdf
    """
    from mailer.compose.build import build_issue

    result = build_issue(issue_dir, get_settings(ctx, base_url=base_url))
    if make_pdf:
        from mailer.compose.pdf import render_pdf

        pdf_path = render_pdf(result.out_dir)
        click.echo(f"{pdf_path}  {pdf_path.stat().st_size:,} bytes")
    sizes = result.meta["sizes"]
    for path, size in (
        (result.html_path, sizes["email_html"]),
        (result.text_path, sizes["email_txt"]),
        (result.web_path, sizes["web_html"]),
        (result.meta_path, result.meta_path.stat().st_size),
    ):
        click.echo(f"{path}  {size:,} bytes")
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(
        f"Built {result.meta['subject']!r}: {len(result.meta['sections'])} sections, "
        f"{len(result.meta['images'])} images, email {sizes['email_html'] / 1024:.1f} KB "
        f"(style {sizes['style_block'] / 1024:.1f} KB), web version {result.meta['web_url']}"
    )


@cli.command()
@click.argument("slug")
@click.option(
    "--dir",
    "newsletters_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder holding the issues.  [default: newsletters/ in the project folder]",
)
@click.option("--language", default="sv", show_default=True, help="sv, da or en.")
@click.option("--title", help="Newsletter title.  [default: Nyhetsbrev, Nyhedsbrev or Newsletter]")
def new(slug: str, newsletters_dir: Path, language: str, title: str | None) -> None:
    """Create a new issue folder SLUG with one example section of each common layout.

    Example: newsletter new 2026-3 (refuses to overwrite an existing folder)
    """
    from mailer.compose.scaffold import scaffold_issue

    folder = newsletters_dir or find_project_root() / "newsletters"
    path = scaffold_issue(folder, slug, language=language, title=title)
    files = sorted(p.name for p in path.iterdir() if p.is_file())
    click.echo(f"Created {path} with {len(files)} files: {', '.join(files)}")
    click.echo(f"Edit the sections, then run: newsletter build {path}")


@cli.command("form", short_help="Print a sign-up form to paste into the organisation's web site.")
@click.option("--list", "list_name", default=None, metavar="NAME", help="The list it signs up to.")
@click.option("--language", default="sv", show_default=True, help="sv, da or en.")
@click.option(
    "--thanks", "thanks_url", default="", metavar="URL", help="Thank-you page to land on."
)
@click.pass_context
def form_command(ctx: click.Context, list_name: str | None, language: str, thanks_url: str) -> None:
    """Print an HTML sign-up form for the organisation's own web site (WordPress, Sitevision,
    plain HTML). It posts to this server and is accepted only from the web sites listed in
    NEWSLETTER_FORM_ORIGINS; bots are kept out by a honeypot, the rate limits and a small
    proof-of-work our own script solves in the browser (no cookie, no third party). Double
    opt-in and the consent record are as for /subscribe; the record names the page. Run it
    where the list is (the server). docs/api.md describes the JSON variant.

    \b
    Example:
      newsletter form --list nyhetsbrev --language sv
      newsletter form --thanks https://www.example.se/tack > form.html
    """
    from mailer.config import DEFAULT_LIST
    from mailer.web.embedded_form import make_snippet

    settings = get_settings(ctx)
    settings.require_secret_key()
    click.echo(make_snippet(settings, list_name or DEFAULT_LIST, language, thanks_url))


@cli.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    default="sv",
    show_default=True,
    help="Language of the sample issue and newsletter.yml.",
)
def init_command(directory: Path, language: str) -> None:
    """Create a site folder DIRECTORY for an organisation's newsletters.

    Writes newsletters/newsletter.yml, newsletters/assets/, one sample issue, .env with a
    fresh NEWSLETTER_SECRET_KEY, a .gitignore (subscribers.db, .env, build/) and a README.
    Refuses to overwrite anything. Run the other commands inside DIRECTORY.

    Example: newsletter init mysite && cd mysite
    """
    from mailer.compose.site_folder import init_site

    created = init_site(directory, language=language)
    issue = created["issue"].relative_to(directory)
    click.echo(f"Created the site {directory}: {issue}, .env, .gitignore, README.md")
    click.echo(f"Next: cd {directory}, fill in .env and {issue.parent}/newsletter.yml, then")
    click.echo(f"      newsletter build {issue}")


@cli.group("templates")
def templates_group() -> None:
    """The site's own templates: templates/ here overrides the bundled ones file by file.

    \b
    Example:
      newsletter templates copy email/footer.html
    """


@templates_group.command("copy")
@click.argument("name", required=False)
@click.pass_context
def templates_copy(ctx: click.Context, name: str | None) -> None:
    """Copy bundled template NAME into templates/ to change it; without NAME, list them.

    A file in templates/ replaces the bundled file of the same name in builds, the
    preview and the web pages. To change one block only, let the copy start with
    {% extends "bundled/email/issue.html" %} and keep just that block.

    \b
    Examples:
      newsletter templates copy
      newsletter templates copy email/footer.html
    """
    from mailer.compose.render import site_templates_dir
    from mailer.compose.site_folder import bundled_templates, copy_template

    settings = get_settings(ctx)
    if name is None:
        site = site_templates_dir(settings)
        for template in bundled_templates():
            mark = "  (overridden here)" if (site / template).is_file() else ""
            click.echo(f"{template}{mark}")
        return
    path = copy_template(name, settings)
    click.echo(f"Copied {name} to {path}; it now replaces the bundled one. Rebuild to see it.")


# --- preview and serve ---------------------------------------------------------------------


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option(
    "--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Worker threads."
)
@click.option(
    "--trusted-proxy",
    metavar="IP",
    help="Take the client address from X-Forwarded-For sent by this proxy (nginx).",
)
@click.pass_context
def serve(
    ctx: click.Context, host: str, port: int, threads: int, trusted_proxy: str | None
) -> None:
    """Serve the subscriber pages and the archive (waitress).

    Unsubscribe (also RFC 8058 one-click), confirm, subscribe, preferences and
    /archive/. Links are built from NEWSLETTER_BASE_URL; put a TLS proxy in front.

    Example: newsletter serve --port 8000
    """
    from mailer.web.server import serve as serve_app

    serve_app(
        get_settings(ctx),
        host=host,
        port=port,
        threads=threads,
        trusted_proxy=trusted_proxy,
        announce=click.echo,
    )


@cli.command()
@issue_dir_argument
@click.option(
    "--port",
    default=8001,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port on 127.0.0.1.",
)
@click.pass_context
def preview(ctx: click.Context, issue_dir: Path, port: int) -> None:
    """Live preview of ISSUE_DIR on 127.0.0.1: desktop, 375 px, a 320 px phone frame, text.

    Rebuilds when a file in the issue or templates/ changes and reloads the browser;
    build errors show in the page.

    Example: newsletter preview newsletters/2018-2
    """
    from mailer.web.server import serve_preview

    serve_preview(get_settings(ctx), issue_dir, port=port, announce=click.echo)


@cli.command("worker")
@click.option(
    "--poll",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between looks for queued sends.",
)
@click.pass_context
def worker_command(ctx: click.Context, poll: float) -> None:
    """Run the sends queued from laptops (and their due scheduled sends) in this process.

    `newsletter serve` runs them itself; this is for a server that runs the sending as a
    service of its own. Ctrl-C finishes the messages in flight; the next start continues.

    Example: newsletter worker
    """
    from mailer.delivery.remote_worker import run_forever

    settings = get_settings(ctx)
    run_forever(settings, settings.project_root / "newsletters", poll, announce=click.echo)


# --- subscribers ---------------------------------------------------------------------------

SUBSCRIPTION_STATUSES = ("pending", "active", "unsubscribed", "bounced", "complained")


def _subscriber_db(ctx: click.Context, *, create: bool = False):
    """Settings and the migrated database of this folder (a server-side command); a missing
    database is made only when `create` (see `mailer.remote.lists.open_local_db`)."""
    from mailer.remote.lists import open_local_db

    settings = get_settings(ctx)
    return settings, open_local_db(settings, create=create)


def _the_list(ctx: click.Context, *, create: bool = False):
    """The list a command acts on: the server's with NEWSLETTER_SERVER, else this folder's
    (`create`: this command is a first write that may make the database here)."""
    from mailer.remote.lists import open_list

    return open_list(get_settings(ctx), create=create)


@cli.group()
def subscribers() -> None:
    """The subscriber list: add, import, list, show, export, unsubscribe, reactivate, erase,
    purge, stats, lists.

    The database is NEWSLETTER_DB (default: subscribers.db in the project folder) or --db
    before the command.

    \b
    Example:
      newsletter subscribers stats
    """


@subscribers.command("add")
@click.argument("email")
@click.option("--name", default="", help="The person's name, as used in greetings.")
@click.option(
    "--list",
    "list_name",
    default=DEFAULT_LIST,
    show_default=True,
    help="List to subscribe to; created if it does not exist yet.",
)
@click.option(
    "--language",
    type=click.Choice(LANGUAGES, case_sensitive=False),
    default="sv",
    show_default=True,
    help="Language of the issues and emails they get.",
)
@click.option("--source", help="Where they gave consent, e.g. 'sign-up sheet, fair 2026-10-03'.")
@click.pass_context
def subscribers_add(ctx, email, name, list_name, language, source) -> None:
    """Add EMAIL as an active subscriber (you vouch for the consent; --source says where).

    Never re-subscribes someone who unsubscribed, and refuses erased addresses: those
    can only come back through the web form's double opt-in.

    \b
    Example:
      newsletter subscribers add anna@example.se --name "Anna Berg" --source "fair 2026-10-03"
    """
    the_list = _the_list(ctx, create=True)
    click.echo(
        the_list.add(email, name=name, list_name=list_name, language=language, source=source)
    )


@subscribers.command("import")
@click.argument("csv_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--list",
    "list_name",
    default=DEFAULT_LIST,
    show_default=True,
    help="List for rows without a lists column; created if it does not exist yet.",
)
@click.option("--source", help="Where the consent was collected (rows may have their own).")
@click.option("--dry-run", is_flag=True, help="Validate and count, then write nothing.")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the valid rows; write the invalid ones with a reason to FILE.rejected.csv.",
)
@click.pass_context
def subscribers_import(ctx, csv_file, list_name, source, dry_run, skip_invalid) -> None:
    """Import subscribers from FILE: a .csv (UTF-8 or Excel's cp1252, comma or semicolon)
    or an .xlsx workbook (its first sheet).

    Columns (header any case): email/e-post/e-mail, name/namn, language/språk, lists,
    consent_date, source. Any invalid row rejects the whole file with row numbers, unless
    --skip-invalid; duplicates, erased and unsubscribed people are skipped and reported.
    Valid rows go in one transaction.

    \b
    Examples:
      newsletter subscribers import members.csv --source "member register 2026" --dry-run
      newsletter subscribers import members.csv --list nyhetsbrev --source "member register 2026"
    """
    from mailer.audience.importer import estimate_rows

    the_list = _the_list(ctx, create=not dry_run)
    with click.progressbar(
        length=estimate_rows(csv_file),
        label=f"Importing {csv_file.name}",
        file=sys.stderr,
    ) as bar:
        report = the_list.import_file(
            csv_file,
            list_name=list_name,
            source=source,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            progress=bar.update,
        )
    click.echo(report.describe())


@subscribers.command("list")
@click.option("--list", "list_name", help="Only this list.")
@click.option("--status", type=click.Choice(SUBSCRIPTION_STATUSES), help="Only this status.")
@click.pass_context
def subscribers_list(ctx, list_name, status) -> None:
    """Print subscriptions, tab-separated: email, name, language, list, status.

    \b
    Example:
      newsletter subscribers list --list nyhetsbrev --status active
    """
    count = 0
    for row in _the_list(ctx).subscriptions(list_name, status):
        fields = ("email", "name", "language", "list", "status")
        click.echo("\t".join(row[field] for field in fields))
        count += 1
    click.echo(f"{count} subscriptions", err=True)


@subscribers.command("set")
@click.argument("email")
@click.argument("assignments", nargs=-1, required=True, metavar="FIELD=VALUE...")
@click.pass_context
def subscribers_set(ctx, email, assignments) -> None:
    """Set custom fields of EMAIL (e.g. län=Örebro "roll=vice ordförande"); FIELD= removes one.

    Fields come from extra columns of an import too; sections use them as %%län|%% and
    `send --segment "län = Örebro"` picks people by them.

    \b
    Example:
      newsletter subscribers set anna@example.se län=Örebro "roll=vice ordförande"
    """
    now = _the_list(ctx).set_fields(email, list(assignments))
    shown = ", ".join(f"{name}={value}" for name, value in now.items()) or "no fields"
    click.echo(f"{email}: {shown}")


@subscribers.command("show")
@click.argument("email")
@click.option(
    "--json", "as_json", is_flag=True, help="The full access-request document (GDPR Art. 15/20)."
)
@click.pass_context
def subscribers_show(ctx, email, as_json) -> None:
    """Show everything held about EMAIL: profile, lists, consent history, issues sent.

    \b
    Examples:
      newsletter subscribers show anna@example.se
      newsletter subscribers show anna@example.se --json > anna.json
    """
    import json

    from mailer.audience.roster import format_subject

    document = _the_list(ctx).show(email)
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        click.echo(format_subject(document), nl=False)


@subscribers.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="CSV with a header row, or a JSON array.",
)
@click.pass_context
def subscribers_export(ctx, fmt) -> None:
    """Write every subscription (email, name, language, created, list, status) to stdout.

    \b
    Example:
      newsletter subscribers export --format csv > subscribers.csv
    """
    count = _the_list(ctx).export(sys.stdout, fmt)
    click.echo(f"{count} subscriptions exported", err=True)


@subscribers.command("unsubscribe")
@click.argument("email")
@click.option("--list", "list_name", help="Only this list (default: every list).")
@click.pass_context
def subscribers_unsubscribe(ctx, email, list_name) -> None:
    """Unsubscribe EMAIL (logged with channel 'cli'); a repeat changes nothing.

    \b
    Example:
      newsletter subscribers unsubscribe anna@example.se --list nyhetsbrev
    """
    changed = _the_list(ctx).unsubscribe(email, list_name)
    if changed:
        click.echo(f"Unsubscribed from {', '.join(changed)}.")
    else:
        click.echo("Nothing to change: not subscribed there.")


@subscribers.command("erase", short_help="Erase EMAIL for good (GDPR Art. 17); keep a keyed hash.")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def subscribers_erase(ctx, email, yes) -> None:
    """Erase EMAIL on request (GDPR Art. 17): personal data deleted, history anonymised.

    Only a keyed hash (HMAC) of the address stays, on the suppression list, so that no
    later add or import brings the person back. Needs NEWSLETTER_SECRET_KEY (the key of
    that hash; after `keys rotate` keep the old one in NEWSLETTER_SECRET_KEY_PREVIOUS).
    Cannot be undone; the erasure journal makes `restore` erase them again. Files outside
    the database, such as the .eml files of `send --dry-run` and backups, are not touched:
    delete them yourself.

    \b
    Example:
      newsletter subscribers erase anna@example.se --yes
    """
    the_list = _the_list(ctx)
    if not yes:
        click.confirm(f"Erase {email} for good?", abort=True)
    the_list.erase(email)
    click.echo("Erased; the address is on the suppression list as a keyed hash only.")
    click.echo(
        "Copies outside the database are not touched: delete .eml files written by "
        "`send --dry-run`, exports and backups that hold the address yourself."
    )


@subscribers.command("purge")
@click.option(
    "--older-than",
    "older_than",
    type=click.IntRange(min=0),
    metavar="DAYS",
    help="Age limit in days (default: NEWSLETTER_PENDING_RETENTION_DAYS, 14).",
)
@click.pass_context
def subscribers_purge(ctx, older_than) -> None:
    """Delete sign-ups never confirmed within DAYS, and expired link tokens.

    \b
    Example:
      newsletter subscribers purge --older-than 14
    """
    counts = _the_list(ctx).purge(older_than)
    click.echo(
        f"Purged {counts['subscriptions']} unconfirmed sign-ups ({counts['subscribers']} people "
        f"removed) and {counts['tokens']} expired tokens."
    )


@subscribers.command("lists")
@click.argument("name", required=False)
@click.option("--title", help="Title shown on the pages and in List-Id, e.g. 'Nyhetsbrev'.")
@click.option(
    "--public/--private",
    default=None,
    help="Offer the list on the public sign-up page, or keep it internal (a test list).",
)
@click.option(
    "--welcome",
    metavar="PATH",
    help="A built issue mailed once to each person right after they confirm "
    "(relative to the folder `serve` runs in); --welcome '' removes it.",
)
@click.pass_context
def subscribers_lists(
    ctx, name: str | None, title: str | None, public: bool | None, welcome: str | None
) -> None:
    """Show the lists, or create or change list NAME: its title, whether it is offered, and
    its welcome issue.

    \b
    Examples:
      newsletter subscribers lists
      newsletter subscribers lists nyhetsbrev --title "Nyhetsbrev från partnerskapet"
      newsletter subscribers lists nyhetsbrev --welcome newsletters/valkommen
      newsletter subscribers lists test --private
    """
    if name is None and (title is not None or public is not None or welcome is not None):
        raise click.UsageError("give the NAME of the list to change")
    the_list = _the_list(ctx, create=name is not None)
    if name is None:
        entries = the_list.lists()
        for entry in entries:
            click.echo(entry.describe())
        if not entries:
            click.echo("No lists yet: `newsletter subscribers lists NAME` creates one.")
        return
    entry = the_list.configure_list(name, title=title, public=public, welcome=welcome)
    click.echo(entry.describe())


@subscribers.command("stats")
@click.pass_context
def subscribers_stats(ctx) -> None:
    """Counts per list and status, people, suppressions, consent events, and service mail.

    Service mail (confirmations, links, welcomes) waiting in the outbox or failed is shown
    with the server's reply; per list the bounce and complaint rates of the last 30 days,
    with a warning above 2 % bounces or 0.1 % complaints.

    \b
    Example:
      newsletter subscribers stats
    """
    from mailer.audience.roster import format_service_mail

    figures = _the_list(ctx).stats()
    for name, counts in figures["lists"].items():
        click.echo(f"{name}: " + ", ".join(f"{n} {status}" for status, n in counts.items()))
    click.echo(
        f"{figures['subscribers']} {'person' if figures['subscribers'] == 1 else 'people'}, "
        f"{figures['suppressions']} suppressed (erased), {figures['consent_events']} consent "
        f"event{'' if figures['consent_events'] == 1 else 's'}"
    )
    for name, rate in figures["rates"].items():
        click.echo(
            f"{name}, last {figures['rate_days']} days: {rate['messages']} messages, "
            f"{rate['bounces']} bounced ({rate['bounce_rate']:.1%}), {rate['complaints']} "
            f"complaints ({rate['complaint_rate']:.2%})"
            + (
                f", {rate['unverified']} with unverified reports (not counted)"
                if rate.get("unverified")
                else ""
            )
        )
        for warning in rate["warnings"]:
            click.echo(f"Warning: {warning}", err=True)
    for line in format_service_mail(figures["service_mail"]):
        click.echo(line)


@subscribers.command("reactivate")
@click.argument("email")
@click.option("--list", "list_name", help="Only this list (default: every list it applies to).")
@click.pass_context
def subscribers_reactivate(ctx, email, list_name) -> None:
    """Undo a bounce or a complaint: EMAIL is mailed again (logged as 'reactivate').

    Applies to subscriptions marked bounced, and to those a complaint (spam report)
    unsubscribed. Someone who unsubscribed themselves is not reactivated: they sign up again.

    \b
    Example:
      newsletter subscribers reactivate anna@example.se --list nyhetsbrev
    """
    changed = _the_list(ctx).reactivate(email, list_name)
    if changed:
        click.echo(f"Reactivated on {', '.join(changed)}.")
    else:
        click.echo("Nothing to change: no bounced or complained subscription there.")


# --- bounces -------------------------------------------------------------------------------


@cli.group()
def bounces() -> None:
    """Read bounces and complaints mailed back, and stop mailing dead addresses.

    Set NEWSLETTER_BOUNCE_ADDRESS so that each message carries its own return path, and the
    BOUNCE_IMAP_* settings for `fetch`. Then only a report carrying a message's token or its
    recipient's Message-ID changes a subscription; others are shown as unverified (see
    docs/bounces.md). See README.md, "Bounces and complaints".

    \b
    Examples:
      newsletter bounces fetch --dry-run
      newsletter bounces import ~/Downloads/*.eml
    """


def _print_bounces(summary) -> None:
    """Each report worth a look (everything in a dry run), then the one-line summary."""
    shown = ("hard", "soft", "complaint", "unverified", "unmatched", "unreadable")
    for label, outcome, text in summary.details:
        if summary.dry_run or outcome in shown:
            click.echo(f"{label}: {outcome}: {text}")
    click.echo(summary.line())
    for warning in summary.warnings:
        click.echo(f"Warning: {warning}", err=True)


def _bounce_progress(label: str):
    def progress(total: int):
        return click.progressbar(length=total, label=label, file=sys.stderr)

    return progress


@bounces.command("fetch")
@click.option("--dry-run", is_flag=True, help="Print what would be recorded; change nothing.")
@click.pass_context
def bounces_fetch(ctx, dry_run) -> None:
    """Read the new messages in the bounce mailbox (BOUNCE_IMAP_*), each one once.

    Nothing in the mailbox is changed or deleted (the folder is opened read-only); the
    database remembers which messages were read. Run it after each send, or from cron.

    \b
    Examples:
      newsletter bounces fetch --dry-run
      17 * * * *  cd /srv/newsletter && newsletter bounces fetch
    """
    summary = _the_list(ctx).bounces_fetch(
        dry_run=dry_run, progress=_bounce_progress("Reading bounces")
    )
    _print_bounces(summary)


@bounces.command("import")
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    metavar="FILE...",
)
@click.option("--dry-run", is_flag=True, help="Print what would be recorded; change nothing.")
@click.pass_context
def bounces_import(ctx, files, dry_run) -> None:
    """Read bounces saved as .eml files, mbox files or Maildir folders.

    For bounces that land in an ordinary inbox: save or export them, then import them.
    A report read before is recognised and not counted twice.

    Example: newsletter bounces import ~/Downloads/*.eml
    """
    summary = _the_list(ctx).bounces_import(
        files, dry_run=dry_run, progress=_bounce_progress("Reading files")
    )
    _print_bounces(summary)


# --- service mail --------------------------------------------------------------------------


@cli.group()
def outbox() -> None:
    """Service mail (confirmation and data links, welcomes) waiting in the durable outbox.

    `newsletter serve` sends it by itself; `subscribers stats` shows what waits or failed.

    \b
    Example:
      newsletter outbox run
    """


@outbox.command("run")
@click.pass_context
def outbox_run(ctx) -> None:
    """Send every waiting service mail now, without waiting for its next retry.

    Example: newsletter outbox run   (after fixing the SMTP settings or the relay)
    """
    from mailer.delivery.service_worker import flush

    result = flush(_list_here(get_settings(ctx)))
    click.echo(
        f"Tried {result['tried']} service mails: {result['waiting']} still waiting, "
        f"{result['failed']} failed (details: newsletter subscribers stats)."
    )


# --- send ----------------------------------------------------------------------------------


@cli.command("send")
@issue_dir_argument
@click.option("--list", "list_name", metavar="NAME", help="List to send to [default: the issue's].")
@click.option(
    "--to",
    "to_address",
    metavar="ADDRESS",
    help="Send one copy marked [TEST] to ADDRESS only; the ledger is not touched.",
)
@click.option(
    "--dry-run",
    "dry_run_dir",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write every message as an .eml file into DIR instead of sending.",
)
@click.option(
    "--limit", metavar="N", type=click.IntRange(min=1), help="Send at most N messages in this run."
)
@click.option(
    "--connections",
    metavar="N",
    type=click.IntRange(1, 16),
    help="Parallel SMTP connections [default: SEND_CONNECTIONS or 1].",
)
@click.option(
    "--rate",
    metavar="PER_SECOND",
    type=click.FloatRange(min=0),
    help="At most this many messages per second, 0 = no limit [default: SEND_RATE]. "
    "SEND_RATE_PER_HOUR and SEND_RATE_PER_DAY cap each rolling hour and day too.",
)
@click.option(
    "--stop-at-quota",
    is_flag=True,
    help="Stop when SEND_RATE_PER_HOUR or SEND_RATE_PER_DAY is reached, and say when to "
    "resume, instead of waiting for the quota to free up.",
)
@click.option("--yes", "-y", is_flag=True, help="Send without asking for confirmation.")
@click.option(
    "--force",
    is_flag=True,
    help="Send even when 'newsletter check' finds errors in the issue.",
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Try the messages recorded as failed once more (after fixing what made the server "
    "refuse them); bounced and unsubscribed people are still not mailed.",
)
@click.option(
    "--at",
    "at",
    metavar='"YYYY-MM-DD HH:MM"',
    help="Do not send now: check the issue now and schedule it for this local time (in the "
    "issue's timezone:, default Europe/Stockholm); 'newsletter scheduled run' sends it.",
)
@click.option(
    "--segment",
    help='Mail only the active people the expression picks, e.g. "län = Örebro" (see README, '
    "Segments); a resume keeps it, 'all' goes back to the whole list.",
)
@click.option(
    "--detach",
    is_flag=True,
    help="With NEWSLETTER_SERVER: return once the server has queued the send, without "
    "watching it ('newsletter send-status ISSUE_DIR' shows how far it got).",
)
@click.pass_context
def send_command(
    ctx,
    issue_dir,
    list_name,
    to_address,
    dry_run_dir,
    limit,
    connections,
    rate,
    yes,
    force,
    retry_failed,
    stop_at_quota,
    at,
    segment,
    detach,
):
    """Mail ISSUE_DIR to its list, or resume a send that stopped.

    Builds the issue first when the build is missing or stale, runs the checks of
    'newsletter check' (and stops on errors unless --force), shows what it is about to
    do and asks before sending. Every message is recorded in the ledger, so running the
    same command again resumes: nobody recorded as sent is mailed again, and whoever is
    left gets the issue (after Ctrl-C, a crash, --limit or a pause after repeated SMTP
    failures). Only active subscriptions are mailed, re-checked just before each message.

    \b
    Examples:
      newsletter send newsletters/2018-2 --to me@example.se
      newsletter send newsletters/2018-2 --dry-run /tmp/eml --limit 5
      newsletter send newsletters/2018-2 --rate 10
      newsletter send newsletters/2018-2 --segment "län = Örebro"
      newsletter send newsletters/2018-2 --at "2026-12-03 08:00"

    With NEWSLETTER_SERVER set, the server sends: the issue is built and checked here,
    uploaded, and the server's progress is shown (Ctrl-C stops watching, not sending).
    """

    from mailer.delivery import send as sending

    settings = get_settings(ctx)
    if settings.server_url:
        if dry_run_dir or stop_at_quota:
            raise click.UsageError(
                "--dry-run and --stop-at-quota need the list: run them on the server"
            )
        options = {"list": list_name, "segment": segment, "connections": connections}
        options.update(rate=rate, limit=limit, retry_failed=retry_failed, force=force, at=at)
        _send_remote(ctx, settings, issue_dir, to_address, options, yes=yes, detach=detach)
        return
    if not to_address:  # a test copy needs no list; everything else does
        _list_here(settings)
    if at:
        if to_address or dry_run_dir or limit or retry_failed:
            raise click.UsageError(
                "--at schedules a whole send; leave out --to, --dry-run, --limit and --retry-failed"
            )
        _schedule(settings, issue_dir, at, list_name, connections, rate, force, yes, segment)
        return
    if to_address:
        reply = sending.send_test(settings, issue_dir, to_address)
        click.echo(f"Test copy of {issue_dir.name} sent to {to_address} ({reply}).")
        return

    preflight = _check_gate(settings, force, list_name)

    def confirm(plan):
        click.echo(plan.describe())
        return yes or click.confirm("Send now?", default=False)

    def progress(total):
        return click.progressbar(
            length=total,
            label="Sending",
            show_eta=True,
            show_pos=True,
            item_show_func=lambda rate: rate,
            file=sys.stderr,
        )

    summary = sending.run_send(
        settings,
        issue_dir,
        list_name=list_name,
        limit=limit,
        connections=connections,
        rate=rate,
        dry_run_dir=dry_run_dir,
        progress=progress,
        preflight=preflight,
        retry_failed=retry_failed,
        confirm=confirm,
        notify=lambda text: click.echo(text, err=True),
        stop_at_quota=stop_at_quota,
        segment=segment,
    )
    kept = [("--list", list_name), ("--rate", rate), ("--connections", connections)]
    resume = f"newsletter send {issue_dir}" + "".join(
        f" {option} {value:g}" if isinstance(value, float) else f" {option} {value}"
        for option, value in kept
        if value is not None
    )
    resume += " --force" if force else ""
    click.echo(summary.line())
    if summary.stopped == "interrupted":
        click.echo(f"Stopped. Resume with: {resume}", err=True)
        ctx.exit(130)
    if summary.stopped == "quota":
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(summary.resume_at))
        click.echo(
            f"Stopped: {summary.reason}. The quota frees the next message at {when}; "
            f"resume then with: {resume} (add --stop-at-quota to stop again at the next "
            "quota, or leave it out to wait).",
            err=True,
        )
        ctx.exit(75)
    if summary.remaining and not summary.dry_run:
        click.echo(f"Run '{resume}' again to send the rest.", err=True)


def _send_remote(ctx, settings, issue_dir, to_address, options, *, yes, detach) -> None:
    """`send` with NEWSLETTER_SERVER: build and check here, upload, let the server plan and
    queue, then watch its progress (mailer.remote.sending)."""
    from mailer.compose import bundle
    from mailer.delivery.send import prepare_issue
    from mailer.remote import sending as remote
    from mailer.remote.client import ApiClient

    client = ApiClient.from_settings(settings)
    prepare_issue(issue_dir, settings)  # builds when stale
    if not to_address:
        _check_gate(settings, options["force"], options["list"])(issue_dir)
    packed = bundle.pack(issue_dir)
    remote.upload_bundle(client, packed.data, packed.sha256)
    if to_address:
        answer = client.call("POST", f"/sends/{packed.slug}/test", json={"to": to_address})
        click.echo(
            f"Test copy of {packed.slug} sent by the server to {to_address} ({answer['reply']})."
        )
        return
    answer = remote.request_send(client, packed.slug, packed.sha256, dry_run=True, **options)
    click.echo(answer["plan"])
    if answer.get("job") is None and not options["at"] and answer["recipients"] == 0:
        click.echo(f"Nobody left to mail: {answer['already_sent']} already sent.")
        return
    if answer.get("job") is None:
        question = "Schedule this send?" if options["at"] else "Send now?"
        if not (yes or click.confirm(question, default=False)):
            raise click.ClickException("cancelled; nothing was sent")
        answer = remote.request_send(client, packed.slug, packed.sha256, **options)
    else:
        click.echo("The server is already sending this issue; watching it.", err=True)
    if options["at"]:
        click.echo(
            f"{answer['issue']} is scheduled on the server for {answer['scheduled']} to list "
            f"{answer['list_name']}; the server sends it then."
        )
        return
    if answer.get("job") is None:  # sent to everyone between the plan and the queue
        click.echo(f"Nobody left to mail: {answer['already_sent']} already sent.")
        return
    watch_again = f"newsletter send-status {issue_dir}"
    if detach:
        click.echo(
            f"Queued on the server {settings.server_url}; '{watch_again}' shows how far it got."
        )
        return
    _watch_remote(ctx, client, answer["job"], watch_again)


def _watch_remote(ctx, client, job: dict, watch_again: str) -> None:
    """The server's progress as a progress bar; Ctrl-C stops watching, never the send."""
    from mailer.remote import sending as remote

    bar = click.progressbar(
        length=max(1, job["planned"]), label="Sending", show_pos=True, file=sys.stderr
    )
    shown = {"done": 0}

    def update(state: dict) -> None:
        bar.update(state["done"] - shown["done"])
        shown["done"] = state["done"]

    try:
        with bar:
            final = remote.watch(client, job["issue"], job["list"], update)
    except KeyboardInterrupt:
        click.echo(
            f"\nStopped watching; the server goes on sending. '{watch_again}' shows how "
            "far it got.",
            err=True,
        )
        ctx.exit(130)
    click.echo(final["last_result"])
    if final["state"] != "done":
        ctx.exit(1)


@cli.command("send-status")
@issue_dir_argument
@click.pass_context
def send_status_command(ctx, issue_dir):
    """Show how far the send of ISSUE_DIR got: messages per state, and every problem.

    Every message that failed, was deferred, skipped or interrupted is listed with the
    server's last reply; then the bounces and complaints reported back for it
    (`newsletter bounces fetch`).

    \b
    Example:
      newsletter send-status newsletters/2018-2
    """
    from mailer.delivery import send as sending

    settings = get_settings(ctx)
    if settings.server_url:
        from mailer.remote import sending as remote
        from mailer.remote.client import ApiClient

        status = remote.send_status(ApiClient.from_settings(settings), issue_dir)
        job = status["remote"]
        if job:
            click.echo(
                f"On {settings.server_url}: {job['state']}, {job['done']} of {job['planned']} "
                f"(queued by token {job['token_name']} at {job['queued_at'][:19]} UTC) "
                f"{job['last_result']}".rstrip()
            )
    else:
        status = sending.send_status(_list_here(settings), issue_dir)
    counts = ", ".join(f"{n} {state}" for state, n in status["counts"].items() if n)
    click.echo(f"{status['issue']}: {counts or 'nothing sent yet'}")
    for row in status["problems"]:
        who = row["email"] or "an erased subscriber"
        reply = row["last_reply"] or "-"
        click.echo(f"  {row['state']:<8} {who}: {reply} ({row['attempts']} attempts)")
    if status["smtputf8_deferred"]:
        click.echo(
            f"{status['smtputf8_deferred']} international address(es) deferred: the SMTP "
            "server does not offer SMTPUTF8; they are sent by a later run through one that does."
        )

    reports = status.get("bounces")
    if reports and reports["events"]:
        click.echo(
            f"Reported back: {reports['bounced']} bounced, {reports['soft_bounced']} "
            f"soft-bounced, {reports['complained']} complained"
            + (f", {reports['unverified']} unverified" if reports.get("unverified") else "")
        )
        for event in reports["events"]:
            who = event["email"] or "(erased)"
            click.echo(
                f"  {event['kind']:<9} {who}: {event['status']} {event['diagnostic'] or ''} "
                f"({event['reported_at'][:10]}; {event['decision']})"
            )


@cli.command("report", short_help="Figures for the funder: per issue and per month, with charts.")
@click.argument("issue", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv"]),
    default="text",
    show_default=True,
    help="csv: for Excel and Word (UTF-8 with BOM; ';' for Swedish and Danish sites).",
)
@click.option(
    "--charts",
    "charts_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write the charts as SVG and PNG into this folder (needs matplotlib).",
)
@click.pass_context
def report_command(ctx, issue: str | None, fmt: str, charts_dir: Path | None) -> None:
    """The report for the funder: per issue (or only ISSUE, a slug or folder) delivered,
    failed, bounced, complaints, unsubscribed within 7 days, and aggregate clicks per link
    where NEWSLETTER_CLICK_COUNTING was on; per month and list the subscribers at month end,
    sign-ups and unsubscriptions. Counts only: nothing about any person.

    \b
    Example:
      newsletter report --charts report-charts
      newsletter report 2026-3 --format csv > report.csv
    """
    from mailer.delivery import funder_output
    from mailer.delivery.funder_report import report_for

    if charts_dir is not None:
        from mailer.delivery.funder_charts import write_charts
    report = report_for(get_settings(ctx), issue)
    written = write_charts(report, charts_dir) if charts_dir is not None else []
    if fmt == "csv":
        click.echo(funder_output.render_csv(report), nl=False)
    else:
        click.echo(funder_output.render_text(report), nl=False)
    for path in written:
        click.echo(f"Chart: {path}", err=True)


# --- gdpr ----------------------------------------------------------------------------------


@cli.group()
def gdpr() -> None:
    """Documents the GDPR asks the organisation to keep.

    \b
    Example:
      newsletter gdpr record
    """


@gdpr.command("record")
@click.option(
    "--newsletters",
    "newsletters_dir",
    default="newsletters",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder with newsletter.yml (the organisation's name, address and contact).",
)
@click.pass_context
def gdpr_record(ctx, newsletters_dir: Path) -> None:
    """Print the record of processing activities (GDPR Art. 30) as Markdown: purposes, the
    categories of data actually stored, recipients, retention, erasure and security.

    \b
    Example:
      newsletter gdpr record > record-of-processing.md
    """
    click.echo(_the_list(ctx).gdpr_record(newsletters_dir))


# --- scheduled sends ------------------------------------------------------------------------


def _list_here(settings: Settings) -> Settings:
    """The settings of a command that needs this folder's list, which must exist: without a
    database here (and without NEWSLETTER_SERVER) it stops with the line naming both setups,
    and never makes an empty database."""
    from mailer.remote.lists import NoListHere, no_list_message

    if not Path(settings.db_path).exists():
        raise NoListHere(no_list_message(settings))
    return settings


def _server_lists(settings: Settings):
    """With NEWSLETTER_SERVER and a token, `check` asks the server for its lists' counts (the
    list lives there); an editor without a token gets a note instead."""
    if not (settings.server_url and settings.api_token):
        return None
    from mailer.remote.lists import open_list

    return lambda: open_list(settings).stats()["lists"]


def _check_gate(settings: Settings, force: bool, list_name: str | None = None):
    """The checks `send` runs before mailing anyone: `newsletter check` (the same function,
    settings and list) stops on errors unless forced. Returns `gate(issue_dir)`."""

    def gate(issue_dir: Path) -> None:
        from mailer.check import check_issue
        from mailer.errors import SendError

        report = check_issue(
            issue_dir, settings, list_name=list_name, server_lists=_server_lists(settings)
        )
        if report.errors and not force:
            click.echo(report.format_text(), err=True)
            raise SendError(
                "nothing was sent. Fix the errors above and run the same command again, "
                "or send anyway with --force (a local trial)."
            )
        click.echo(report.summary())
        if settings.archive_pdf == "on":
            from mailer.compose.pdf import keep_archive_copy

            missing = keep_archive_copy(issue_dir / "build")
            if missing:
                click.echo(f"Warning: {missing}", err=True)
        if report.errors:
            click.echo("--force: sending in spite of the errors.", err=True)
        if report.warnings:
            click.echo(f"Details: newsletter check {issue_dir}")

    return gate


def _schedule(settings, issue_dir, at, list_name, connections, rate, force, yes, segment) -> None:
    """`send ISSUE --at ...`: check now, show the plan with the time and zone, record it."""
    from mailer.delivery.schedule import schedule_send

    def confirm(plan, schedule):
        click.echo(plan.describe().replace(" to send now", " on the list now", 1))
        click.echo(f"Scheduled:  {schedule.when()}; the recipients are counted again then")
        return yes or click.confirm("Schedule this send?", default=False)

    schedule, _plan = schedule_send(
        settings,
        issue_dir,
        at,
        list_name=list_name,
        connections=connections,
        rate=rate,
        force=force,
        segment=segment,
        gate=_check_gate(settings, force, list_name),
        confirm=confirm,
    )
    click.echo(
        f"{schedule.issue} is scheduled for {schedule.when()} to list {schedule.list_name}. "
        "'newsletter scheduled run' sends it when due (run it from cron or a systemd timer)."
    )


@cli.group()
def scheduled() -> None:
    """Sends scheduled with 'newsletter send ISSUE --at TIME': run, list, cancel.

    \b
    Example:
      newsletter scheduled list
    """


@scheduled.command("run")
@click.pass_context
def scheduled_run(ctx) -> None:
    """Send every scheduled issue that is due, and continue any that stopped.

    Non-interactive, for cron or a systemd timer (every few minutes). The checks run again
    first. Prints one line per issue it touched and nothing when nothing is due; exits 1
    when a schedule failed or stopped.

    \b
    Example (crontab, every 5 minutes):
      */5 * * * * cd /srv/newsletter && newsletter scheduled run
    """
    from mailer.compose.bundle import is_received
    from mailer.delivery.remote_worker import RemoteSendWorker
    from mailer.delivery.schedule import run_due

    settings = get_settings(ctx)
    if settings.server_url:
        raise click.UsageError(f"the server {settings.server_url} runs its scheduled sends itself")

    def gate(issue_dir: Path, force: bool) -> None:
        if is_received(issue_dir):  # sent from a laptop: no sources here, the server's checks
            RemoteSendWorker(settings, issue_dir.parent).gate(issue_dir, force)
            return
        _check_gate(settings, force)(issue_dir)

    outcomes = run_due(settings, gate=gate, notify=lambda text: click.echo(text, err=True))
    for outcome in outcomes:
        click.echo(f"{outcome.schedule.issue} ({outcome.schedule.when()}): {outcome.message}")
    from mailer.delivery.retention import prune_ledger

    folded = prune_ledger(settings)  # NEWSLETTER_LEDGER_RETENTION_DAYS, on every run
    if folded.groups:
        click.echo(folded.line())
    if any(outcome.state != "done" for outcome in outcomes):
        ctx.exit(1)


@cli.group()
def ledger() -> None:
    """The send ledger: who got each issue, kept NEWSLETTER_LEDGER_RETENTION_DAYS.

    \b
    Example:
      newsletter ledger prune
    """


@ledger.command("prune")
@click.pass_context
def ledger_prune(ctx) -> None:
    """Fold per-recipient ledger rows older than NEWSLETTER_LEDGER_RETENTION_DAYS (180) into
    per-issue counts; send-status, the archive and the feeds stay true. `serve` and
    `scheduled run` do this by themselves.

    Example: newsletter ledger prune
    """
    from mailer.delivery.retention import prune_ledger

    click.echo(prune_ledger(get_settings(ctx)).line())


@scheduled.command("list")
@click.option("--all", "everything", is_flag=True, help="Also sends done, failed or cancelled.")
@click.pass_context
def scheduled_list(ctx, everything) -> None:
    """Show the scheduled sends: issue, list, local time and zone, state, last result.

    \b
    Example:
      newsletter scheduled list --all
    """
    from mailer.delivery.schedule import list_schedules

    settings = get_settings(ctx)
    if settings.server_url:
        from mailer.remote import sending as remote
        from mailer.remote.client import ApiClient

        schedules = remote.list_scheduled(ApiClient.from_settings(settings), everything=everything)
    else:
        schedules = list_schedules(_list_here(settings), everything=everything)
    for item in schedules:
        result = f"  {item.last_result}" if item.last_result else ""
        click.echo(f"{item.issue}  {item.list_name}  {item.when()}  {item.state}{result}")
    if not schedules:
        click.echo('Nothing scheduled; `newsletter send ISSUE --at "YYYY-MM-DD HH:MM"` schedules.')


@scheduled.command("cancel")
@click.argument("issue")
@click.option("--list", "list_name", metavar="NAME", help="Only the send to this list.")
@click.pass_context
def scheduled_cancel(ctx, issue, list_name) -> None:
    """Cancel the scheduled send of ISSUE (its folder or slug): a waiting one never goes out; one
    that has begun is not continued by 'scheduled run' (a run in progress finishes its pass).

    \b
    Example:
      newsletter scheduled cancel 2026-3
    """
    from mailer.delivery.schedule import cancel_schedule

    settings = get_settings(ctx)
    if settings.server_url:
        from mailer.remote import sending as remote
        from mailer.remote.client import ApiClient

        client = ApiClient.from_settings(settings)
        found = remote.cancel_scheduled(client, issue, list_name=list_name)
    else:
        found = cancel_schedule(_list_here(settings), issue, list_name=list_name)
    for item in found:
        click.echo(f"Cancelled: {item.issue} to {item.list_name} at {item.when()}.")
        if item.state == "sending":
            click.echo(
                f"Its send had begun ({item.last_result or 'running'}); nothing more is sent "
                f"automatically. 'newsletter send {item.issue_dir}' sends the rest.",
                err=True,
            )


# --- API tokens and audit (on the server) -------------------------------------------------


def _server_db(ctx: click.Context, *, create: bool = False):
    """The database of the server this command runs on; refused on a laptop driving one."""
    settings = get_settings(ctx)
    if settings.server_url:
        raise click.UsageError(
            f"API tokens are made and revoked on the server ({settings.server_url}): run this "
            "command there, in the folder `newsletter serve` runs in"
        )
    return _subscriber_db(ctx, create=create)


@cli.group("tokens")
def tokens_group() -> None:
    """API tokens on the server: each lets one laptop drive the list (docs/api.md).

    \b
    Example:
      newsletter tokens create anna-laptop
    """


@tokens_group.command("create")
@click.argument("name")
@click.pass_context
def tokens_create(ctx, name) -> None:
    """Make API token NAME and print it once (only its hash is kept).

    Put it in the laptop's .env as NEWSLETTER_API_TOKEN, beside NEWSLETTER_SERVER.

    \b
    Example:
      newsletter tokens create anna-laptop
    """
    from mailer.remote.tokens import create_token

    _settings, db = _server_db(ctx, create=True)
    secret = create_token(db, name)
    click.echo(secret)
    click.echo(
        f"Token {name!r} made. It is shown this once: put NEWSLETTER_API_TOKEN={secret[:4]}... "
        "in the laptop's .env now; `newsletter tokens revoke NAME` ends it.",
        err=True,
    )


@tokens_group.command("list")
@click.pass_context
def tokens_list(ctx) -> None:
    """Show the API tokens: name, when made, when last used (never the token).

    \b
    Example:
      newsletter tokens list
    """
    from mailer.remote.tokens import list_tokens

    _settings, db = _server_db(ctx)
    rows = list_tokens(db)
    for row in rows:
        used = (row["last_used"] or "never used")[:19].replace("T", " ")
        click.echo(
            f"{row['name']}\tcreated {row['created'][:19].replace('T', ' ')}\tlast used {used}"
        )
    if not rows:
        click.echo("No API tokens; `newsletter tokens create NAME` makes one.")


@tokens_group.command("revoke")
@click.argument("name")
@click.pass_context
def tokens_revoke(ctx, name) -> None:
    """End API token NAME at once: its next request is refused.

    \b
    Example:
      newsletter tokens revoke anna-laptop
    """
    from mailer.remote.tokens import revoke_token

    _settings, db = _server_db(ctx)
    revoke_token(db, name)
    click.echo(f"Token {name!r} revoked.")


@cli.command("audit")
@click.option("--token", "token_name", metavar="NAME", help="Only changes made with this token.")
@click.option("--last", type=click.IntRange(min=1), metavar="N", help="Only the newest N entries.")
@click.pass_context
def audit_command(ctx, token_name, last) -> None:
    """List every change made through an API token: time (UTC), token, action, counts.

    \b
    Example:
      newsletter audit --token anna-laptop --last 20
    """
    from mailer.remote.audit import format_audit

    entries = _the_list(ctx).audit(token_name=token_name, last=last)
    for entry in entries:
        click.echo(format_audit(entry))
    if not entries:
        click.echo("No changes made through API tokens.")


# --- check ---------------------------------------------------------------------------------


@cli.command("check")
@issue_dir_argument
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON, for machines.")
@click.option("--no-spam", is_flag=True, help="Skip the SpamAssassin run (it takes about 2 s).")
@click.option(
    "--no-render",
    is_flag=True,
    help="Skip looking at the rendering in headless Chromium (it takes about 3 s).",
)
@click.option(
    "--screenshots",
    "screenshots",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write desktop.png, phone.png, dark.png and images-blocked.png into this folder.",
)
@click.option(
    "--list", "list_name", metavar="NAME", help="The list send will use [default: the issue's]."
)
@click.pass_context
def check_command(ctx, issue_dir, as_json, no_spam, no_render, screenshots, list_name):
    """Check the built ISSUE_DIR for what will break before anyone is mailed.

    Size (Gmail clips HTML over 102 KB as sent, drops <style> over 16 KB), structure,
    images, links, client support (caniemail.com data for Gmail, Outlook Windows, Apple
    Mail, Outlook.com, Yahoo), accessibility and, when SpamAssassin is installed, the spam
    score of the message for a sample recipient (local tests only). When Chromium is
    installed it also renders the email at 320, 375 and 600 px and in dark mode: anything
    wider than the screen is an error. Each finding names the
    section file to change, or the built file when it comes from the templates.
    It also checks what sending needs: NEWSLETTER_FROM set, a public NEWSLETTER_BASE_URL,
    no sample text of `newsletter new` left, a fresh build, a list with people on it.
    Exits with status 1 when there are errors; warnings alone exit 0.
    `newsletter send` runs the same checks and stops on errors unless --force: "ready to
    send" here means send will send.

    \b
    Examples:
      newsletter check newsletters/2018-2
      newsletter check newsletters/2018-2 --json > report.json
      newsletter check newsletters/2018-2 --screenshots shots/
    """
    import json

    from mailer.check import check_issue

    settings = get_settings(ctx)
    report = check_issue(
        issue_dir,
        settings,
        spam=not no_spam,
        render=not no_render,
        screenshots=screenshots,
        list_name=list_name,
        server_lists=_server_lists(settings),
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(report.format_text())
    if not report.ok:
        ctx.exit(1)


@cli.command("refresh-caniemail")
@click.option(
    "--version",
    "version",
    default="latest",
    show_default=True,
    help="Version of the npm package caniemail to fetch.",
)
@click.option(
    "--tarball",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Use this already downloaded caniemail-X.Y.Z.tgz instead of fetching one.",
)
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write here instead [default: your data folder, e.g. ~/.local/share/newsletter/"
    "caniemail]. Developers: data/caniemail updates the copy the package ships.",
)
def refresh_caniemail_command(version, tarball, dest):
    """Update the client support data `check` uses.

    Fetches the npm package caniemail (with `npm pack` when npm is installed, else from
    registry.npmjs.org) and writes caniemail.json, its LICENSE and README.md, only if the
    new data parses, into your data folder (never into the installed package). `check`
    reads that copy from then on, unless the bundled one is newer.

    \b
    Examples:
      newsletter refresh-caniemail
      newsletter refresh-caniemail --tarball caniemail-1.0.5.tgz
    """
    from mailer.check.caniemail import refresh_caniemail, refreshed_dir

    installed = refresh_caniemail(version, tarball=tarball, dest=dest)
    click.echo(f"caniemail {installed} data written to {dest or refreshed_dir()}")


@cli.group("keys")
def keys_group() -> None:
    """The secret key: rotate it without losing links or the suppression list.

    \b
    Example:
      newsletter keys rotate
    """


@keys_group.command("rotate")
@click.pass_context
def keys_rotate(ctx) -> None:
    """Make a new NEWSLETTER_SECRET_KEY and say what to put in .env and keep.

    Prints the new key and the old one moved to NEWSLETTER_SECRET_KEY_PREVIOUS; .env is
    not edited. Old keys only verify (links in sent issues, bounce tokens, the suppression
    list); everything new is signed with the new key.

    \b
    Example:
      newsletter keys rotate
    """
    from mailer.audience.keys import rotation_plan

    _key, text = rotation_plan(get_settings(ctx))
    click.echo(text)


@keys_group.command("status")
@click.pass_context
def keys_status(ctx) -> None:
    """Fingerprints of the configured keys and the suppression rows made with each.

    A MISSING row means the suppression list holds erasures made with a key that is not
    configured: import, add and sign-up refuse until it is in NEWSLETTER_SECRET_KEY_PREVIOUS.

    \b
    Example:
      newsletter keys status
    """
    from mailer.audience.keys import status

    settings, db = _subscriber_db(ctx)
    settings.require_secret_key()
    rows = status(db, settings)
    for row in rows:
        click.echo(f"{row['fingerprint']}  {row['role']:<8}  {row['suppressions']} suppressions")
    missing = [r for r in rows if r["role"] == "MISSING"]
    if missing:
        raise click.ClickException(
            f"{len(missing)} key(s) missing: put the old key(s) in NEWSLETTER_SECRET_KEY_PREVIOUS"
        )


@cli.command("backup")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def backup_command(ctx, file: Path | None) -> None:
    """Copy the database and its erasure journal to FILE (mode 0600), safely while serve
    and send run. Default: backups/subscribers-YYYYMMDDTHHMMSSZ.db beside the database.

    A backup holds personal data, including people erased later: keep it off this machine,
    encrypted, and delete old ones (docs/backup.md).

    \b
    Example:
      newsletter backup /mnt/offsite/newsletter-$(date +%F).db
    """
    from mailer.audience.backup import backup

    path, info = backup(get_settings(ctx), file)
    click.echo(
        f"Backup written to {path} (mode 0600, taken {info['taken_at']}, "
        f"{info['journal_entries']} journal entries)."
    )


@cli.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--without-journal",
    is_flag=True,
    help="Restore even though the erasure journal is lost: erasures and unsubscriptions "
    "made after the backup are NOT re-applied.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def restore_command(ctx, file: Path, without_journal: bool, yes: bool) -> None:
    """Replace the database with backup FILE, then re-apply every erasure and
    unsubscription made since (from the erasure journal beside the database).

    Stop `serve`, `send` and scheduled runs first: while the copy is written other
    processes wait, but a send running through it would work from the old state.

    \b
    Example:
      newsletter restore backups/subscribers-20261207T003000Z.db
    """
    from mailer.audience.backup import restore

    settings = get_settings(ctx)
    if not yes:
        click.confirm(
            f"Replace {settings.db_path} with {file}? (stop serve and send first)", abort=True
        )
    report = restore(settings, file, without_journal=without_journal)
    for note in report.notes:
        click.echo(f"Warning: {note}", err=True)
    click.echo(
        f"Restored the backup taken {report.taken_at}; re-applied {report.journal_entries} "
        f"journal entries: {report.erased} people erased again, {report.withdrawn} "
        f"subscriptions withdrawn again, {report.suppressed} suppressions added."
    )


if __name__ == "__main__":
    cli()
