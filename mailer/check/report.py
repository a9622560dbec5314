"""The check report: findings (errors, warnings, notes) with where to look and what to do."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True)
class Finding:
    """One thing the editor should know: which check, where it can be fixed, and how.

    `location` is the section file the problem can be traced to (for example
    `newsletters/2018-2/03-idevagnen.md`), or the built file when it comes from the templates;
    `line` is a line in that file when known.
    """

    severity: str
    check: str
    code: str
    message: str
    advice: str = ""
    location: str = ""
    line: int | None = None

    def where(self) -> str:
        if not self.location:
            return ""
        return f"{self.location}:{self.line}" if self.line else self.location

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Report:
    """Everything `check_issue` found; `errors` stop a send unless it is forced."""

    issue: str
    findings: list[Finding] = field(default_factory=list)
    facts: dict = field(default_factory=dict)

    def add(self, finding: Finding) -> None:
        if finding.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {finding.severity!r}")
        if finding not in self.findings:
            self.findings.append(finding)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "note"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        def plural(count: int, word: str) -> str:
            return f"{count} {word}{'' if count == 1 else 's'}"

        verdict = "ready to send" if self.ok else "fix the errors before sending"
        return (
            f"{self.issue}: {plural(len(self.errors), 'error')}, "
            f"{plural(len(self.warnings), 'warning')}; {verdict}"
        )

    def to_dict(self) -> dict:
        """The same report for machines (`newsletter check --json`)."""
        return {
            "issue": self.issue,
            "ok": self.ok,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "notes": [f.to_dict() for f in self.notes],
            "facts": self.facts,
            "summary": self.summary(),
        }

    def format_text(self) -> str:
        """A short report for people: errors first, then warnings, then notes."""
        lines: list[str] = []
        for title, items in (
            ("Errors", self.errors),
            ("Warnings", self.warnings),
            ("Notes", self.notes),
        ):
            if not items:
                continue
            lines.append(f"{title}:")
            for item in items:
                where = item.where()
                head = f"  [{item.check}] {where + ': ' if where else ''}{item.message}"
                lines.append(head)
                if item.advice:
                    lines.append(f"      -> {item.advice}")
            lines.append("")
        widths = self.facts.get("rendered_widths")
        if widths:
            lines.append(f"Rendering looked at in Chromium: {', '.join(widths)}.")
        lines.append(self.summary())
        return "\n".join(lines)
