"""The ingest scope: which KPIs, municipalities, years and custom networks the platform covers,
and the quality profile's weights.

Read from YAML (settings.config_path) so that analysts change scope without code changes.
Every problem raises `ScopeError` naming the file and the key, because a typo here would
otherwise surface hours later as "no data" in a dashboard.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any, Literal

import yaml

KPI_ID_RE = re.compile(r"^[NU]\d{5}$")
KPI_GROUP_ID_RE = re.compile(r"^G\w+$")
MUNICIPALITY_ID_RE = re.compile(r"^\d{4}$")
_NETWORK_ID_RE = re.compile(r"^[A-Za-z0-9_\-]+$")


class ScopeError(ValueError):
    """The scope file cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Network:
    """A self-chosen peer group; gets its own mean/median in the scorecard."""

    id: str
    title: str
    members: tuple[str, ...]


# The quality profile's dimensions and their default weights in the composite
# (docs/indicators.md, "Quality profile"): results first, as Sveriges KvalitetsKommun reviews
# results before economy and employer; Kommunkompassen 0 because few kommuner have a recent
# assessment, and a score only some have would favour them.
PROFILE_DIMENSIONS = ("results", "economy", "employer", "development", "kommunkompassen")
DEFAULT_PROFILE_WEIGHTS: dict[str, float] = {
    "results": 0.4, "economy": 0.2, "employer": 0.2, "development": 0.2, "kommunkompassen": 0.0,
}


@dataclass(frozen=True)
class UnitScope:
    """Kolada's unit-level data (KK_CONFIG `units:`): which unit KPIs, by theme, for the units
    of which kommuner. No KPIs = units are not ingested."""

    kpi_themes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    municipalities: Literal["all"] | tuple[str, ...] = "all"

    @property
    def kpis(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(k for ids in self.kpi_themes.values() for k in ids))


@dataclass(frozen=True)
class IngestScope:
    kpi_groups: tuple[str, ...]
    kpis: tuple[str, ...]
    kpi_themes: dict[str, tuple[str, ...]]
    municipalities: Literal["all"] | tuple[str, ...]
    years: tuple[int, ...]
    networks: tuple[Network, ...]
    profile_weights: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_PROFILE_WEIGHTS))
    units: UnitScope = field(default_factory=UnitScope)


def _err(path: Path, key: str, problem: str) -> ScopeError:
    line = _line_of(path, key)
    return ScopeError(f"{path}: {key}: {problem}" + (f" (line {line})" if line else ""))


_KEY_PART_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _line_of(path: Path, key: str) -> int | None:
    """The 1-based line of `key` (`kolada.kpis.other[2]`) in the YAML file, for the message:
    in a long config "line 14" is found faster than a key path. None when it is not there."""
    try:
        node = yaml.compose(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    line = None
    for name, index in _KEY_PART_RE.findall(key):
        if isinstance(node, yaml.MappingNode) and name:
            found = next(((k, v) for k, v in node.value if k.value == name), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and name:
            continue  # a plain list of KPIs stands for one theme, named in the key only
        elif isinstance(node, yaml.SequenceNode) and index:
            if int(index) >= len(node.value):
                break
            node = node.value[int(index)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _mapping(value: Any, path: Path, key: str, known: tuple[str, ...] | None = None
             ) -> dict[str, Any]:
    """`value` as a mapping; with `known`, an unknown key is an error with a did-you-mean (a
    misspelt `municipalites:` must not silently mean "all municipalities")."""
    if not isinstance(value, dict):
        raise _err(path, key, f"expected a mapping, got {type(value).__name__}")
    for name in value:
        if known is not None and name not in known:
            close = get_close_matches(str(name), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            where = f"{key}.{name}" if key != "(top level)" else str(name)
            raise _err(path, where, f"unknown key (known: {', '.join(known)}){hint}")
    return value


def _id_list(value: Any, path: Path, key: str, pattern: re.Pattern[str], example: str
             ) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _err(path, key, f"expected a list, got {type(value).__name__}")
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not pattern.match(item):
            raise _err(path, f"{key}[{i}]", f"{item!r} is not an id like {example!r}")
        if item not in out:
            out.append(item)
    return tuple(out)


def _year(value: Any, path: Path, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1990 <= value <= 2100:
        raise _err(path, key, f"expected a year between 1990 and 2100, got {value!r}")
    return value


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping. PyYAML keeps the last one
    silently, so `municipalities: ["1784"]` followed by `municipalities: all` widened a
    narrow scope to all 312 units with exit 0."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            try:
                earlier = first.get(key)
            except TypeError:  # an unhashable key: SafeLoader's own error says so
                continue
            if earlier is not None:
                raise _DuplicateKey(
                    None, None, f"duplicate key {key!r} (first given at line {earlier.start_mark.line + 1}; "
                    "YAML would keep only the last)", key_node.start_mark)
            first[key] = key_node
        return super().construct_mapping(node, deep=deep)


def load_scope(path: Path) -> IngestScope:
    """Parse and validate the scope YAML."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except FileNotFoundError as exc:
        raise ScopeError(f"{path}: scope file not found") from exc
    except yaml.YAMLError as exc:
        # one line with the position, not PyYAML's multi-line excerpt
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        raise ScopeError(f"{path}: not valid YAML{where}: {problem}"
                         + (f" ({context})" if context else "")) from None
    root = _mapping(raw, path, "(top level)", ("kolada", "networks", "quality_profile", "units"))
    kolada = _mapping(root.get("kolada"), path, "kolada",
                      ("kpi_groups", "kpis", "municipalities", "years"))

    kpi_groups = _id_list(kolada.get("kpi_groups"), path, "kolada.kpi_groups",
                          KPI_GROUP_ID_RE, "GKPI118")
    themes_raw = kolada.get("kpis") or {}
    if isinstance(themes_raw, list):  # a plain list is one unnamed theme
        themes_raw = {"other": themes_raw}
    themes_raw = _mapping(themes_raw, path, "kolada.kpis")
    kpi_themes: dict[str, tuple[str, ...]] = {}
    flat: list[str] = []
    for theme, ids in themes_raw.items():
        key = f"kolada.kpis.{theme}"
        kpi_themes[str(theme)] = _id_list(ids, path, key, KPI_ID_RE, "N01951")
        flat.extend(k for k in kpi_themes[str(theme)] if k not in flat)
    if not kpi_groups and not flat:
        raise _err(path, "kolada", "neither kpi_groups nor kpis lists anything to ingest")

    munis_raw = kolada.get("municipalities", "all")
    municipalities: Literal["all"] | tuple[str, ...]
    if munis_raw == "all":
        municipalities = "all"
    else:
        municipalities = _id_list(munis_raw, path, "kolada.municipalities",
                                  MUNICIPALITY_ID_RE, "1784")
        if not municipalities:
            raise _err(path, "kolada.municipalities", "expected 'all' or a non-empty list")

    years_raw = _mapping(kolada.get("years"), path, "kolada.years", ("from", "to"))
    first = _year(years_raw.get("from"), path, "kolada.years.from")
    last = _year(years_raw.get("to"), path, "kolada.years.to")
    if first > last:
        raise _err(path, "kolada.years", f"from ({first}) is after to ({last})")

    networks_raw = root.get("networks") or []
    if not isinstance(networks_raw, list):
        raise _err(path, "networks", "expected a list")
    networks: list[Network] = []
    seen: set[str] = set()
    for i, net in enumerate(networks_raw):
        key = f"networks[{i}]"
        net = _mapping(net, path, key, ("id", "title", "members"))
        net_id = net.get("id")
        if not isinstance(net_id, str) or not _NETWORK_ID_RE.match(net_id):
            raise _err(path, f"{key}.id", f"expected an id of letters, digits, _ or -, got "
                       f"{net_id!r}")
        if net_id in seen:
            raise _err(path, f"{key}.id", f"duplicate network id {net_id!r}")
        seen.add(net_id)
        title = net.get("title")
        if not isinstance(title, str) or not title.strip():
            raise _err(path, f"{key}.title", "expected non-empty text")
        members = _id_list(net.get("members"), path, f"{key}.members", MUNICIPALITY_ID_RE,
                           "1784")
        if len(members) < 2:
            raise _err(path, f"{key}.members", "a network needs at least 2 members")
        networks.append(Network(net_id, title, members))

    profile_weights = _profile_weights(root.get("quality_profile"), path)

    return IngestScope(
        kpi_groups=kpi_groups,
        kpis=tuple(flat),
        kpi_themes=kpi_themes,
        municipalities=municipalities,
        years=tuple(range(first, last + 1)),
        networks=tuple(networks),
        profile_weights=profile_weights,
        units=_units(root.get("units"), path),
    )


def _units(raw: Any, path: Path) -> UnitScope:
    """`units:` -> UnitScope; absent = no unit data."""
    if raw is None:
        return UnitScope()
    section = _mapping(raw, path, "units", ("kpis", "municipalities"))
    themes_raw = _mapping(section.get("kpis") or {}, path, "units.kpis")
    themes = {str(theme): _id_list(ids, path, f"units.kpis.{theme}", KPI_ID_RE, "N15436")
              for theme, ids in themes_raw.items()}
    munis_raw = section.get("municipalities", "all")
    if munis_raw == "all":
        return UnitScope(themes, "all")
    munis = _id_list(munis_raw, path, "units.municipalities", MUNICIPALITY_ID_RE, "1784")
    if not munis:
        raise _err(path, "units.municipalities", "expected 'all' or a non-empty list")
    return UnitScope(themes, munis)


def _profile_weights(raw: Any, path: Path) -> dict[str, float]:
    """`quality_profile.weights`: a weight >= 0 per dimension; unnamed ones keep the default."""
    if raw is None:
        return dict(DEFAULT_PROFILE_WEIGHTS)
    section = _mapping(raw, path, "quality_profile", ("weights",))
    given = _mapping(section.get("weights") or {}, path, "quality_profile.weights")
    weights = dict(DEFAULT_PROFILE_WEIGHTS)
    for name, value in given.items():
        key = f"quality_profile.weights.{name}"
        if name not in PROFILE_DIMENSIONS:
            raise _err(path, key, f"unknown dimension; expected one of {', '.join(PROFILE_DIMENSIONS)}")
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value) or value < 0):
            # NaN passes `value < 0` and would make every composite NaN; inf swamps the rest
            finite = "" if not isinstance(value, float) or math.isfinite(value) else \
                " (a weight must be finite)"
            raise _err(path, key, f"expected a number >= 0, got {value!r}{finite}")
        weights[name] = float(value)
    if weights["results"] <= 0:
        raise _err(path, "quality_profile.weights.results",
                   "must be above 0: the composite is only given to kommuner with a results score")
    return weights
