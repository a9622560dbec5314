"""The organisation's details from newsletters/newsletter.yml, for documents other than issues
(the GDPR record of processing): the text keys only, no images checked."""

from __future__ import annotations

from pathlib import Path

from .frontmatter import FrontMatter, read_source
from .issue import SITE_FILE

TEXT_KEYS = ("organisation", "address", "web", "email", "phone")


def load_site(newsletters_dir: Path) -> dict[str, str]:
    """organisation, address, web, email and phone from NEWSLETTERS_DIR/newsletter.yml ({} when
    there is no such file); IssueError naming the file and line when it is not YAML.

    Read with the build's own loader, so `phone: 0704331711` stays that text (plain YAML reads
    it as an octal number) and every document shows what the emails show.
    """
    path = Path(newsletters_dir) / SITE_FILE
    if not path.is_file():
        return {}
    # the issues' own reader: line numbers, no aliases, bounded nesting, numbers kept as text
    data = FrontMatter.from_yaml(path, read_source(path)).data
    return {key: str(data[key]).strip() for key in TEXT_KEYS if data.get(key)}
