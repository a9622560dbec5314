"""A site folder of its own: `newsletter init` creates one, `newsletter templates copy` fills
its templates/ with a bundled template to change.

A site is what an organisation keeps in its own repository: newsletters/ (issues, the shared
newsletter.yml and assets/), .env, and optionally templates/ whose files replace the bundled
ones of the same name. The tool itself is installed separately and upgraded on its own.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

from ..config import Settings, bundled_path
from ..errors import MailerError
from ..locale import LANGUAGES
from .render import BUNDLED_PREFIX, TEMPLATES_DIR, site_templates_dir
from .scaffold import SITE_TEMPLATES, scaffold_issue

SECRET_LINE = re.compile(r"^NEWSLETTER_SECRET_KEY=.*$", re.M)

GITIGNORE = """\
# Kept out of git (written by `newsletter init`): the subscriber list, secrets, built issues.
subscribers.db
subscribers.db-*
subscribers.db.erasures
backups/
.env
build/
"""

README = """\
# Newsletters

The issues, settings and (optionally) templates of our newsletter, made with the `newsletter`
tool. The tool is installed on its own (`pipx install newsletter-*.whl`, or `pip install` into
a virtual environment) and upgraded without touching this folder. Run every command here.

```sh
newsletter build newsletters/{slug}     # newsletters/{slug}/build/: email.html, email.txt, web.html
newsletter preview newsletters/{slug}   # http://127.0.0.1:8001, rebuilds as you edit
newsletter check newsletters/{slug}     # what would break before anyone is mailed
newsletter send newsletters/{slug} --to you@example.org   # one [TEST] copy
newsletter new {next_slug}                    # the next issue
```

- `newsletters/newsletter.yml`: organisation, address, logo and footer of every issue.
- `newsletters/assets/`: pictures every issue uses (logo, funding logo).
- `.env`: settings (SMTP server, sender, public address, secret key). Never commit it.
- `templates/` (optional): `newsletter templates copy` lists the bundled templates and
  `newsletter templates copy email/footer.html` copies one here; a file here replaces the
  bundled one of the same name, and `{{% extends "{prefix}/email/issue.html" %}}` starts from
  the bundled file to change one block.
- `subscribers.db`: the subscriber list, created on first use. Never commit it; back it up.
"""


# newsletters/newsletter.yml of a new site, in the sample issue's language: the same text
# `newsletter new` writes (one place per language)
SITE_YML = SITE_TEMPLATES


class SiteError(MailerError):
    """A site folder cannot be created, or a template cannot be copied into it."""


def init_site(
    target: Path, *, language: str = "sv", today: dt.date | None = None
) -> dict[str, Path]:
    """Create a site in `target` (which may exist); refuse if any file it would write exists.

    Writes newsletters/newsletter.yml, newsletters/assets/, one sample issue, .env (from the
    example, with a fresh secret key), .gitignore and README.md. Everything is made in a
    temporary folder inside `target` first and moved into place, so a failure leaves nothing.
    Returns the created paths by role: issue, env, readme.
    """
    if language not in LANGUAGES:
        raise SiteError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise SiteError(f"{target} is a file; give a folder for the new site")
    names = ("newsletters", ".env", ".gitignore", "README.md")
    existing = [str(target / name) for name in names if (target / name).exists()]
    if existing:
        raise SiteError(
            f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
            "nothing was written. Choose an empty folder, or move these away first"
        )
    example = bundled_path("data/env.example").read_text(encoding="utf-8")
    if not SECRET_LINE.search(example):
        raise SiteError(f"{bundled_path('data/env.example')}: no NEWSLETTER_SECRET_KEY= line")
    env_text = SECRET_LINE.sub(f"NEWSLETTER_SECRET_KEY={secrets.token_urlsafe(32)}", example)
    today = today or dt.date.today()
    slug = f"{today.year}-1"
    target.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".newsletter-init-", dir=target))
    moved: list[Path] = []
    try:
        newsletters = work / "newsletters"
        (newsletters / "assets").mkdir(parents=True)
        (newsletters / "newsletter.yml").write_text(
            SITE_YML.get(language, SITE_YML["en"]), encoding="utf-8"
        )
        scaffold_issue(newsletters, slug, language=language, today=today)
        env_file = work / ".env"
        env_file.touch(mode=0o600)  # the secret key and, later, the SMTP password
        env_file.write_text(env_text, encoding="utf-8")
        (work / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
        readme = README.format(slug=slug, next_slug=f"{today.year}-2", prefix=BUNDLED_PREFIX)
        (work / "README.md").write_text(readme, encoding="utf-8")
        for name in names:
            os.rename(work / name, target / name)
            moved.append(target / name)
    except BaseException:
        for path in moved:  # whatever was moved already goes again: all or nothing
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "issue": target / "newsletters" / slug,
        "env": target / ".env",
        "readme": target / "README.md",
    }


def bundled_templates() -> list[str]:
    """Every template the tool ships, as names to give `copy_template` (email/footer.html...)."""
    return sorted(
        p.relative_to(TEMPLATES_DIR).as_posix()
        for p in TEMPLATES_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def copy_template(name: str, settings: Settings | None = None) -> Path:
    """Copy bundled template `name` into the site's templates/ and return the new file."""
    name = name.strip().removeprefix(f"{BUNDLED_PREFIX}/").removeprefix("templates/")
    known = bundled_templates()
    if name not in known:
        close = [t for t in known if name and name in t][:5]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise SiteError(
            f"{name!r} is not a bundled template{hint}; `newsletter templates copy` lists them"
        )
    destination = site_templates_dir(settings) / name
    if destination.exists():
        raise SiteError(f"{destination} already exists; edit it, or delete it to start over")
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TEMPLATES_DIR / name, destination)
    return destination
