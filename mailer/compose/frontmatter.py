"""YAML front matter with line numbers, read with a loader that keeps numbers and times as text."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import IssueError
from .sources import where

MAX_NESTING = 50  # lists and mappings inside each other; PyYAML's composer recurses per level
_KEEP_TAGS = ("tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp")


class _Refused(yaml.MarkedYAMLError):
    """Valid YAML the front matter does not take (aliases, binary values)."""


class _TextLoader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 int/float/bool guessing.

    Plain YAML would read `issue: 2018:2` as the base-60 number 121082, `phone: 0704331711` as
    an octal number and `language: no` as False; here they stay the text the editor wrote.
    Dates (2018-06-14) still become dates.
    """

    def compose_node(self, parent, index):
        """Refuse aliases (`*name`): nested ones expand a kilobyte of YAML into gigabytes.

        Refuse nesting deeper than MAX_NESTING too: composing (and constructing) recurses once
        per level, so `[[[[...` 2,000 deep would end in a RecursionError.
        """
        depth = getattr(self, "_nesting", 0)
        if depth >= MAX_NESTING and self.check_event(
            yaml.SequenceStartEvent, yaml.MappingStartEvent
        ):
            raise _Refused(
                None,
                None,
                f"values are nested more than {MAX_NESTING} levels deep; front matter takes "
                "plain 'key: value' lines and short lists",
                self.peek_event().start_mark,
            )
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(
                None,
                None,
                f"the alias *{event.anchor} repeats another value; front matter takes no "
                "anchors or aliases (& and *): write the value out",
                event.start_mark,
            )
        self._nesting = depth + 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._nesting = depth


def _refuse_binary(loader: _TextLoader, node: yaml.Node) -> object:
    raise _Refused(
        None, None, "!!binary is not text; write the value as plain text", node.start_mark
    )


class _DateError(yaml.constructor.ConstructorError):
    """A value shaped like a date that is no date in the calendar (2026-02-30)."""


def _construct_date(loader: _TextLoader, node: yaml.Node) -> object:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, AttributeError, TypeError) as exc:  # "day is out of range", and
        # `!!timestamp soon`, whose regex match is None, escape YAML's own parser as-is
        reason = f" ({exc})" if isinstance(exc, ValueError) else ""
        raise _DateError(
            None, None, f"{node.value} is not a date{reason}", node.start_mark
        ) from None


_TextLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_date)
_TextLoader.add_constructor("tag:yaml.org,2002:binary", _refuse_binary)
_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag in _KEEP_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _open_quote(line: str) -> bool:
    """A value on this line opens a quote it does not close (`key: "text` or `- 'text`)."""
    _key, colon, value = line.partition(": ")
    value = (value if colon else line.lstrip().removeprefix("- ")).strip()
    if not value or value[0] not in "\"'":
        return False
    body = value[1:].replace("\\\\", "").replace('\\"', "") if value[0] == '"' else value[1:]
    body = body.replace("''", "") if value[0] == "'" else body
    return value[0] not in body


def yaml_problem(text: str, exc: yaml.YAMLError) -> tuple[int, str]:
    """(0-based line, plain words) for a YAML error: the line the editor must change.

    PyYAML's marks point where its parser gave up, often lines after the mistake (an
    unclosed quote runs on to the next quote; a key without ':' joins the next line) or at
    the start of the whole block; these rules find the line that caused it.
    """
    problem = str(getattr(exc, "problem", "") or "")
    context = str(getattr(exc, "context", "") or "")
    mark = getattr(exc, "problem_mark", None)
    start = getattr(exc, "context_mark", None)
    at = mark.line if mark else 0
    lines = text.split("\n")
    quote_hint = "close the quote on the same line, or remove it"
    for index in range(0, min(at, len(lines) - 1) + 1):
        if _open_quote(lines[index]) and ("scanning a quoted scalar" in context or index < at):
            return index, f"a quote is opened and not closed on this line; {quote_hint}"
    if "could not find expected ':'" in problem and start is not None:
        return start.line, "this line has no ':' after its key; write 'key: value'"
    if "mapping values are not allowed" in problem:
        before = at - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        if before >= 0 and ":" not in lines[before] and not lines[before].lstrip().startswith("-"):
            return before, "this line has no ':' after its key; write 'key: value'"
        indent = len(lines[at]) - len(lines[at].lstrip()) if at < len(lines) else 0
        if before >= 0 and indent > len(lines[before]) - len(lines[before].lstrip()):
            return at, "this line is indented more than the line above; line them up"
        return at, "a second ': ' in a value; put the value in quotes: key: 'text: more text'"
    if "found '<scalar>'" in problem:
        return at, 'text after a closing quote; quote the whole value, e.g. "Region\'s office"'
    if "found '-'" in problem or "found '<block sequence start>'" in problem:
        return at, "a list item ('- ...') where 'key: value' belongs; indent it under its key"
    if "'\\t'" in problem or "\t" in problem:
        return at, "a tab character; indent with spaces"
    if "flow" in context and start is not None:
        closer = "]" if "sequence" in context else "}"
        return start.line, f"a list or group opened here is not closed with '{closer}'"
    if "indentation" in problem or "block end" in problem:
        return at, "the indentation does not match the lines above; indent with spaces alike"
    return at, (
        f"not readable ({problem or str(exc).splitlines()[0]}); write one 'key: value' per "
        "line, and quote values containing ': '"
    )


def read_source(path: Path) -> str:
    """The file as UTF-8 text; undecodable bytes are an IssueError naming the line."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IssueError(
            f"{where(path, line)}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file "
            "as UTF-8 in your editor"
        ) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


@dataclass
class FrontMatter:
    """Parsed front matter plus where each key (and each list item) stands in the file."""

    path: Path
    data: dict[str, Any]
    first_line: int = 1  # file line of the YAML text's first line
    key_lines: dict[str, int] = field(default_factory=dict)
    item_lines: dict[str, list[int]] = field(default_factory=dict)
    sub_lines: dict[str, dict[str, int]] = field(default_factory=dict)  # key -> its keys' lines

    @classmethod
    def from_yaml(cls, path: Path, text: str, first_line: int = 1) -> FrontMatter:
        try:
            loader = _TextLoader(text)
        except yaml.reader.ReaderError as exc:  # a control character such as \x07 or NUL
            line = first_line + text[: exc.position].count("\n")
            raise IssueError(
                f"{where(path, line)}: the front matter holds the invisible control character "
                f"U+{exc.character:04X}; delete it (retype the line if you cannot see it)"
            ) from None
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else {}
        except _Refused as exc:
            raise IssueError(
                f"{where(path, first_line + exc.problem_mark.line)}: {exc.problem}"
            ) from None
        except _DateError as exc:
            line = first_line + exc.problem_mark.line
            raise IssueError(
                f"{where(path, line)}: {exc.problem}; write the date as YYYY-MM-DD"
            ) from None
        except yaml.YAMLError as exc:
            index, problem = yaml_problem(text, exc)
            what = "newsletter.yml" if path.suffix in (".yml", ".yaml") else "the front matter"
            raise IssueError(
                f"{where(path, first_line + index)}: {what} cannot be read here: {problem}"
            ) from None
        finally:
            loader.dispose()
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise IssueError(f"{where(path, first_line)}: front matter must be 'key: value' lines")
        front = cls(path, {str(k): v for k, v in data.items()}, first_line)
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key in front.key_lines:  # YAML would silently keep the last one
                    raise IssueError(
                        f"{where(path, first_line + key_node.start_mark.line)}: {key!r} is "
                        f"already given on line {front.key_lines[key]}; keep one of them"
                    )
                front.key_lines[key] = first_line + key_node.start_mark.line
                if isinstance(value_node, yaml.SequenceNode):
                    front.item_lines[key] = [
                        first_line + item.start_mark.line for item in value_node.value
                    ]
                elif isinstance(value_node, yaml.MappingNode):
                    front.sub_lines[key] = {
                        str(sub.value): first_line + sub.start_mark.line
                        for sub, _ in value_node.value
                    }
        return front

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.first_line)

    def sub_line(self, key: str, sub: str) -> int:
        """Line of `sub` inside the mapping under `key` (else the line of `key`)."""
        return self.sub_lines.get(key, {}).get(sub, self.line_of(key))

    def item_line(self, key: str, index: int) -> int:
        lines = self.item_lines.get(key, [])
        return lines[index] if index < len(lines) else self.line_of(key)

    def reject_unknown(self, allowed: tuple[str, ...], what: str) -> None:
        for key in self.data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
                raise IssueError(
                    f"{where(self.path, self.line_of(key))}: unknown key {key!r} for {what}; {hint}"
                )


def split_front_matter(path: Path, text: str) -> tuple[FrontMatter, str, int]:
    """(front matter, body, body's first line) of a Markdown file; front matter is optional.

    Front matter starts with a first line `---` and ends at the next line `---`.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return FrontMatter(path, {}), text, 1
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            front = FrontMatter.from_yaml(path, "\n".join(lines[1:index]), first_line=2)
            return front, "\n".join(lines[index + 1 :]), index + 2
    raise IssueError(
        f"{where(path, 1)}: front matter opened with '---' is never closed; "
        "add a line '---' after the last key"
    )
