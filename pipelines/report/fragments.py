"""A drawn section of a page, reused from the previous version's page when its inputs match.

Why: a kommun page is rendered again whenever anything on it changes; after an import, that is
every page (the "since the last publication" section now counts from the night before), while
the trend charts, most of a page's time (drawn: ~13 ms of ~17), did not change. A section that
is costly to draw is therefore written between two comments that carry its inputs key:

    <!--kk:trends 3f2a...-->...<!--/kk:trends-->

and a page rendered again takes the section from the previous version's page when the key
there is the one it would draw now. The key covers everything the section shows (its inputs
and the code that draws it, `sharing.inputs_key`), so the reused section is byte for byte the
one the page would draw: a page is the same whether its section was drawn or reused. The
previous page is read only when its manifest vouches for its bytes (`Previous.read_text`).
"""

from __future__ import annotations

from markupsafe import Markup


def _start(name: str, key: str) -> str:
    return f"<!--kk:{name} {key}-->"


def _end(name: str) -> str:
    return f"<!--/kk:{name}-->"


def marked(name: str, key: str, html: str) -> Markup:
    """`html` as the section `name` drawn from inputs `key` (a hex digest: no `--` in it)."""
    return Markup(f"{_start(name, key)}{html}{_end(name)}")


def find(page: str, name: str, key: str) -> Markup | None:
    """The section `name` of `page` (markers included) when it was drawn from `key`, else
    None (no such section, another key, or a section cut short)."""
    start = page.find(_start(name, key))
    if start < 0:
        return None
    end = page.find(_end(name), start)
    if end < 0:
        return None
    return Markup(page[start:end + len(_end(name))])
