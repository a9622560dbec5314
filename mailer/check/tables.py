"""Tell layout tables (the email's grid) from data tables (a table an editor wrote in a section)."""

from __future__ import annotations

from lxml import etree

LAYOUT_ATTRIBUTES = ("cellpadding", "cellspacing", "border", "width", "align", "bgcolor")
BLOCK_TAGS = ("table", "div", "p", "img", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol")


def _owner(element: etree._Element) -> etree._Element | None:
    parent = element.getparent()
    while parent is not None and parent.tag != "table":
        parent = parent.getparent()
    return parent


def own_rows(table: etree._Element) -> list[etree._Element]:
    """The table's rows, not those of tables nested inside it."""
    return [row for row in table.iter("tr") if _owner(row) is table]


def has_headers(table: etree._Element) -> bool:
    """Header cells, a <thead> or a <caption> of this table (not of a nested one)."""
    return any(_owner(el) is table for el in table.iter("th", "thead", "caption"))


def looks_like_data(table: etree._Element) -> bool:
    """Headers, or a grid of plain text cells without layout attributes (a Markdown table)."""
    if has_headers(table):
        return True
    if any(table.get(name) is not None for name in LAYOUT_ATTRIBUTES):
        return False
    rows = own_rows(table)
    if len(rows) < 2 or max(len(row.findall("td")) for row in rows) < 2:
        return False
    for row in rows:
        for cell in row.findall("td"):
            if any(True for _ in cell.iter(*BLOCK_TAGS)):
                return False
    return True


def is_layout_table(table: etree._Element) -> bool:
    return not looks_like_data(table)
