"""How ``msgsess dump`` lays out a message's outline: plain lines, or a rich tree of tables.

The outline (``msgsess.api.outline``, a :class:`~msgsess.dump.Level` tree) holds only text
that is safe to print; this module decides columns and widths, and is where rich is imported.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from msgsess.api import Level, Row

#: Fewest columns a value gets in a table before the narrow layout is used.
VALUE_MIN = 16
#: Columns a level of the tree takes, and the borders and padding of a five-column table.
_GUIDE, _BORDERS = 4, 16


def _bag_lines(found: Sequence[Row], pad: str) -> Iterator[str]:
    """One property a line, in columns as wide as the widest entry of this table."""
    if not found:
        return
    name_w = max(len(r.name) for r in found)
    tag_w = max(len(r.tag) for r in found)
    type_w = max(len(r.type) for r in found)
    for r in found:
        yield f"{pad}{r.name:<{name_w}}  {r.tag:<{tag_w}}  {r.type:<{type_w}}  flags={r.flags:<4}  {r.value}"


def plain_lines(level: Level, depth: int = 0) -> Iterator[str]:
    """The readable dump without rich: one property a line, each level indented below its heading."""
    pad = "  " * depth
    yield from _bag_lines(level.rows or (), pad)
    for below in level.below:
        yield f"{pad}{below.heading}"
        yield from plain_lines(below, depth + 1)


def tree(level: Level, *, title: str, columns: int = 0) -> Any:
    """A ``rich.tree.Tree`` with a table of properties per level.

    ``columns``, the console's width, sizes the tables: names, tags and types are never broken
    and values end in "…" where the line ends. A table that would leave a value less than
    :data:`VALUE_MIN` columns lists each property on a line and its value on the next.
    ``title`` is shown as it is: make it printable first. Make the outline with values cut at
    ``max(columns, 80)`` (1000 when ``columns`` is 0), the most a line can show.
    """
    from rich.text import Text
    from rich.tree import Tree

    top = Tree(Text(title))
    _fill(top, level, columns, 1)
    return top


def _table(found: Sequence[Row], columns: int, depth: int) -> Any:
    from rich.table import Table
    from rich.text import Text

    fixed = sum(max((len(row[i]) for row in found), default=0) for i in range(4))
    if columns and fixed + _BORDERS + _GUIDE * depth + VALUE_MIN > columns:
        grid = Table.grid(padding=(0, 0))
        grid.add_column(overflow="fold")
        for row in found:
            grid.add_row(Text(f"{row.name}  {row.tag}  {row.type}  flags={row.flags}"))
            grid.add_row(Text("  " + row.value, no_wrap=True, overflow="ellipsis"))
        return grid
    table = Table(title="properties", title_justify="left", show_lines=False, expand=False)
    # Names, tags, types and flags keep their full width; the value takes what is left.
    for header in ("property", "tag", "type", "flags"):
        table.add_column(header, no_wrap=True)
    table.add_column("value", overflow="ellipsis")
    for row in found:
        # Text, not markup: a value such as "[red]" or "[/]" is shown as it is.
        table.add_row(*(Text(cell) for cell in row[:4]), Text(row.value, no_wrap=True, overflow="ellipsis"))
    return table


def _fill(node: Any, level: Level, columns: int, depth: int) -> None:
    """Add ``level``'s table and the levels below it to ``node``, whose children sit ``depth`` guides in."""
    from rich.text import Text

    if level.rows is not None:
        node.add(_table(level.rows, columns, depth))
    for below in level.below:
        _fill(node.add(Text(below.heading)), below, columns, depth + 1)
