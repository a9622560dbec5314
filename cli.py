"""The `newsletter` command: parses options, loads settings, calls one library function, prints.

No SQL, Jinja or SMTP here; everything a command does lives in the `mailer` package, where
tests call it directly. Library errors (`MailerError`) become a message and a non-zero exit.
"""

from __future__ import annotations

from pathlib import Path

import click

from mailer.config import Settings, load_settings
from mailer.errors import MailerError


class MailerGroup(click.Group):
    """A group that turns library errors into `Error: ...` and their exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MailerError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)


def get_settings(ctx: click.Context, **overrides) -> Settings:
    """Settings from defaults, `.env`, the environment, then this command's options."""
    root = ctx.find_root()
    obj = root.obj or {}
    layered = {**obj.get("overrides", {}), **overrides}
    return load_settings(layered, env_file=obj.get("env_file", ".env"))


@click.group(cls=MailerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=".env",
    show_default=True,
    help="Read settings from this file (the environment wins over it).",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Subscriber database (overrides NEWSLETTER_DB).",
)
@click.version_option(package_name="newsletter")
@click.pass_context
def cli(ctx: click.Context, env_file: Path, db_path: Path | None) -> None:
    """Write, preview and mail newsletters, and keep the subscriber list lawful."""
    ctx.obj = {"env_file": env_file, "overrides": {"db_path": db_path}}


issue_dir_argument = click.argument(
    "issue_dir", type=click.Path(exists=True, file_okay=False, path_type=Path)
)

# --- compose: build, new -------------------------------------------------------------------

# --- preview and serve ---------------------------------------------------------------------

# --- subscribers ---------------------------------------------------------------------------

# --- send ----------------------------------------------------------------------------------

# --- check ---------------------------------------------------------------------------------


if __name__ == "__main__":
    cli()
