"""Tables on phones: keep, scale or stack each Markdown table, chosen by the width it needs.

A phone column is 280 px at 320 px (less inside a box). A table whose longest words fit
side by side stays a table; one that fits with smaller type is scaled (`md-scale`); anything
wider is stacked (`md-stack`): below 600 px each row becomes a block of "Header: value" lines,
as the plain text already does for wide tables. Desktop clients, Outlook included, ignore the
phone rules and keep the table. The editor can force a mode with `tables:` in the front matter.
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it.token import Token

MODES = ("auto", "stack", "scale")
PHONE_WIDTH = 280  # px of text column at a 320 px screen (20 px padding each side)
BOX_WIDTH = 240  # inside the facts, privacy and contact boxes
DESKTOP_WIDTH = 540
# average advance of a character as a share of the font size (Helvetica/Arial/Roboto, mixed case
# and digits are about 0.55; bold headers about 0.6): the safe side of both
CHAR_EM = 0.62


@dataclass(frozen=True)
class TablePlan:
    """How one table is shown: its CSS class and the header text each column's cells repeat."""

    mode: str  # "fit", "scale" or "stack"
    compact: bool  # 12 px type on desktop (the table needs more than 540 px at 14 px)
    headers: tuple[str, ...]
    breaks: bool = False  # even scaled it is too wide: words may break (an editor's 'scale')

    @property
    def css_class(self) -> str:
        classes = ["md-table"]
        if self.mode != "fit":
            classes.append(f"md-{self.mode}")
        if self.compact:
            classes.append("md-compact")
        if self.breaks:
            classes.append("md-break")
        return " ".join(classes)


def _cells(tokens: list[Token], start: int) -> tuple[list[str], list[list[str]], list[bool]]:
    """Header texts, body rows (cell texts) and which columns are right-aligned (numbers)."""
    headers: list[str] = []
    rows: list[list[str]] = []
    right: list[bool] = []
    in_head = False
    for token in tokens[start + 1 :]:
        if token.type == "th_open":
            right.append("right" in str(token.attrGet("style") or ""))
        if token.type == "table_close":
            break
        if token.type == "thead_open":
            in_head = True
        elif token.type == "thead_close":
            in_head = False
        elif token.type == "tr_open" and not in_head:
            rows.append([])
        elif token.type == "inline":
            text = " ".join(
                child.content
                for child in token.children or ()
                if child.type in ("text", "code_inline", "image")
            ) or " ".join(token.content.split())
            (headers if in_head else rows[-1]).append(text)
    return headers, rows, right


def needed_width(columns: list[list[str]], font_px: float, padding_px: float) -> float:
    """Width in px a table needs when no word may break: each column's longest word.

    A column's first cell is its header; right-aligned columns (figures such as "54 %") keep
    each body cell on one line (the renderer sets nowrap), so those count whole."""
    total = 0.0
    for cells in columns:
        longest = max((len(word) for cell in cells for word in cell.split()), default=0)
        total += longest * CHAR_EM * font_px + 2 * padding_px
    return total


def _units(columns: list[list[str]], right: list[bool]) -> list[list[str]]:
    """Columns as unbreakable pieces: right-aligned body cells become one piece each."""
    return [
        [cells[0], *(c.replace(" ", "\u00a0") for c in cells[1:])]
        if index < len(right) and right[index] and cells
        else cells
        for index, cells in enumerate(columns)
    ]


def plan_table(tokens: list[Token], start: int, requested: str, available: int) -> TablePlan:
    """Choose how the table at `tokens[start]` is shown on phones (see the module docstring)."""
    headers, rows, right = _cells(tokens, start)
    count = max([len(headers), *(len(r) for r in rows)], default=0)
    columns = [
        [headers[i] if i < len(headers) else "", *(row[i] for row in rows if i < len(row))]
        for i in range(count)
    ]
    columns = _units(columns, right)
    compact = needed_width(columns, 14, 5) > DESKTOP_WIDTH
    scaled_fits = needed_width(columns, 14, 3) <= available  # never below 14 px on phones
    if requested in ("stack", "scale"):
        mode = requested
    elif needed_width(columns, 14, 5) <= available:
        mode = "fit"
    elif scaled_fits:
        mode = "scale"
    else:
        mode = "stack"
    if mode == "stack" and not any(headers):
        mode = "scale"  # nothing to label the values with
    # too wide even at the compact size on a computer, or an editor's 'scale' that cannot fit a
    # phone: let words break rather than widen the email
    breaks = needed_width(columns, 12, 4) > DESKTOP_WIDTH or (mode == "scale" and not scaled_fits)
    return TablePlan(mode, compact, tuple(headers), breaks=breaks)
