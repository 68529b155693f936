"""SQL receives config values only as parameters or validated identifiers (issue 15).

An audit of the code: every f-string (or `.format`) that builds SQL in pipelines/ and assets/
is found by its text, and each value spliced into it must be listed below with the reason it
cannot carry a config value, a path an operator chose or source data unescaped. Anything
else goes in as a `?` parameter (or through DuckDB's relational API). A new splice fails here
until someone has looked at it. The validations the reasons rely on are tested where they live:
KK_DATA_DIR with a quote (tests/test_bad_input.py), KPI ids and municipality codes in the
config (tests/test_bad_input.py), version ids for `diff` (tests/test_bad_input.py), network
titles escaped by the dbt macro (dbt_project/macros/indicators.sql).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from pipelines.settings import REPO_ROOT

SQL = re.compile(
    r"\bselect\b[\s\S]*\bfrom\b|\bcreate\s+(or\s+replace\s+)?(table|view)\b|\bcomment\s+on\b"
    r"|\bunion\s+all\b|\bread_parquet\s*\(|\bcount\(\*\)|^\s*where\b|\border\s+by\b")

GLOB = ("a path under KK_DATA_DIR (settings refuse a quote in it) and a stream name from "
        "the code's stream registry, inside a quoted literal")
CONSTANT = "a module constant of the code"
MART = "a mart name from the code's contract (pipelines.warehouse.marts), double-quoted as an identifier"
# file -> spliced expression -> why it is safe
ALLOWED: dict[str, dict[str, str]] = {
    "pipelines/checks/suites.py": {
        "mart": MART,
        "names": "column names from the mart's information_schema, double-quoted"},
    "pipelines/cli/summary.py": {  # the `look:` line: a command printed for the operator, never run
        "sys.executable": "the interpreter's path, printed",
        "board": "a file of the publication under KK_DATA_DIR (no quote), printed"},
    "pipelines/warehouse/dbt_metadata.py": {
        "relation": "a relation name from dbt's manifest (the project's own models)",
        "order": "column names from that relation's catalog, double-quoted",
        "PREVIEW_ROWS": CONSTANT},
    "pipelines/eventlog/layout.py": {"self.ledger_dir": GLOB},
    "pipelines/eventlog/store.py": {
        "self.glob(stream)": GLOB, "globs": GLOB,
        "log.glob(stream)": GLOB,
        "UPSERTED": CONSTANT, "DELETED": CONSTANT,
        "where": "_scope_predicate's text: placeholders only, its values go in as params",
        "join": "the literal `left` or `full`, chosen by this function",
        "absent": "SQL text of this function: constants and _scope_predicate's placeholders",
        "current.path": "the stream's current-state file under KK_DATA_DIR: " + GLOB},
    "pipelines/eventlog/state.py": {
        "COLUMNS": CONSTANT, "log.glob(stream)": GLOB,
        "current.path": "the stream's current-state file under KK_DATA_DIR: " + GLOB,
        "state.path": "the stream's current-state file under KK_DATA_DIR: " + GLOB,
        "batch_file": "the batch file just committed under KK_DATA_DIR: " + GLOB,
        "recomputed": "SQL text of this function, built from COLUMNS and the glob",
        "table": "the literal temp table name new_state, from this module"},
    "pipelines/publish/excel_sql.py": {
        "first": "column expressions built by this module from the contract's columns, "
                 "double-quoted, and generated aliases",
        "second": "the same, second stage", "inner": "SQL text of this function",
        "middle": "SQL text of this function", "line": "the same column expressions, joined",
        "ROW_NUMBER": CONSTANT},
    "pipelines/operations/freshness.py": {
        "log.glob(KPI_VALUE)": GLOB, "UPSERTED": CONSTANT,
        "current.path": "the stream's current-state file under KK_DATA_DIR: " + GLOB,
        "latest": "SQL text of this function, built from the two paths above"},
    "pipelines/operations/status.py": {"log.glob(name)": GLOB, "UPSERTED": CONSTANT},
    "pipelines/operations/history.py": {
        "log.glob(stream)": GLOB,
        "columns": "a fixed column list of this module",
        "where": "a fixed predicate with ? placeholders; KPI, kommun, year are params"},
    "pipelines/operations/diff.py": {
        "on": "the mart's key columns from the contract, double-quoted and joined",
        "differs": "columns both Parquet files have (the platform's), double-quoted, joined",
        "select": "the same columns, double-quoted and joined",
        "int(examples)": "an int"},
    "pipelines/publish/writers.py": {
        "mart": MART,
        "tail": "` limit 0`, or `order by` the mart's key columns from the contract, "
                "double-quoted (MartReader)",
        "name": "a column of the contract, double-quoted",
        "_literal(contract.description)": "escaped by _literal (quotes doubled)",
        "_literal(text)": "escaped by _literal (quotes doubled)"},
    "pipelines/report/load.py": {
        "mart": MART, "path": "a file of the publication, quotes doubled (and none in KK_DATA_DIR)",
        "REVISION_ROW_LIMIT": CONSTANT,
        "unit": "one of two SQL literals of this function (the level test, or false for a "
                "publication without levels)",
        "ou_name": "one of two SQL literals of this function (the column, or a typed null)",
        "added": "ADDED_TYPES, a module constant, each quoted"},
    "pipelines/sources/dbt_sources.py": {"glob": GLOB},
    "pipelines/publish/xlsx_sql.py": {
        "body": "cell expressions of the mart's contract columns: identifiers through _ident "
                "(double-quoted), labels through _lit (quotes doubled)",
        "ROW_NUMBER": CONSTANT,
        "', '.join(exprs)": "width expressions of the contract columns, _ident and _lit quoted"},
    "pipelines/report/units.py": {
        "quoted": "a file of the publication, quotes doubled (and none in KK_DATA_DIR)",
        "kpi_quoted": "a file of the publication, quotes doubled (and none in KK_DATA_DIR)",
        "titles": "SQL text of this function: a join on kpi_quoted, or a constant"},
}


def sql_splices(path: Path) -> list[tuple[int, str]]:
    """(line, expression) of every value spliced into SQL text in `path`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if SQL.search(text.lower()):
                found += [(node.lineno, ast.unparse(v.value)) for v in node.values
                          if isinstance(v, ast.FormattedValue)]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "format" and isinstance(node.func.value, ast.Name)
              and node.func.value.id.endswith("_SQL")):
            found += [(node.lineno, ast.unparse(k.value)) for k in node.keywords]
    return found


def test_sql_splices_only_values_that_cannot_carry_config() -> None:
    unreviewed = []
    seen = set()
    for folder in ("pipelines", "assets"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            rel = path.relative_to(REPO_ROOT).as_posix()
            for line, expr in sql_splices(path):
                seen.add((rel, expr))
                if expr not in ALLOWED.get(rel, {}):
                    unreviewed.append(f"{rel}:{line}: {{{expr}}}")
    assert unreviewed == [], (
        "values spliced into SQL text: pass them as ? parameters, or validate them and list "
        "them in ALLOWED with the reason: " + "; ".join(unreviewed))
    # the list stays true: every entry still exists (a removed splice leaves no stale reason)
    stale = [(f, e) for f, exprs in ALLOWED.items() for e in exprs if (f, e) not in seen]
    assert stale == []


def test_the_audit_finds_a_config_value_spliced_into_sql(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def q(con, kpi):\n    return con.execute(f\"select * from v where kpi = "
                   "'{kpi}'\")\n", encoding="utf-8")
    assert sql_splices(bad) == [(2, "kpi")]
