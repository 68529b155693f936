"""The published marts' contract, read from docs/marts.md: keys and columns per mart.

docs/marts.md is the one place the interface is written down; parsing it (rather than keeping a
second list) lets tests catch a suite, header mapping or mart that drifts from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CONTRACT_FILE = Path(__file__).resolve().parents[2] / "docs" / "marts.md"


@dataclass(frozen=True)
class MartContract:
    key: list[str]
    columns: list[str]


def _strip_parentheses(text: str) -> str:
    """Drop parenthesised notes (allowed values, types) so only column names stay backticked."""
    out, depth, in_tick = [], 0, False
    for ch in text:
        if ch == "`":
            in_tick = not in_tick
        if not in_tick and ch == "(":
            depth += 1
        elif not in_tick and ch == ")" and depth:
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def load_contract(path: Path = CONTRACT_FILE) -> dict[str, MartContract]:
    """mart -> key and columns, from the key table and the `## Columns` paragraphs."""
    text = path.read_text(encoding="utf-8")
    keys = {
        m.group(1): [k.strip().strip("`") for k in m.group(2).split(",")]
        for m in re.finditer(r"^\| `(\w+)` \| `([^|]+)` \|", text, re.MULTILINE)
    }
    columns: dict[str, list[str]] = {}
    for paragraph in text.split("## Columns", 1)[1].split("\n\n"):
        m = re.match(r"`(\w+)`:(.*)", paragraph, re.DOTALL)
        if m and m.group(1) in keys:
            names = re.findall(r"`([a-z_][a-z0-9_]*)`", _strip_parentheses(m.group(2)))
            columns[m.group(1)] = list(dict.fromkeys(names))
    return {mart: MartContract(key, columns.get(mart, [])) for mart, key in keys.items()}
