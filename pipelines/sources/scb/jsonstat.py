"""A general json-stat2 dataset decoder: any dimension order, any sizes, dense or sparse values.

Why general: PxWeb decides the order of `id` (it follows the table, not the query), and a
decoder that assumed Region-Alder-Tid would silently assign numbers to the wrong cells the
day SCB reorders a table. The cell of flat position p is found by reading p in the mixed radix
given by `size`, last dimension fastest (json-stat2's row-major order).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from math import prod
from typing import Any


class JsonStatError(ValueError):
    """The document is not a json-stat2 dataset this decoder can read; says which part."""


@dataclass(frozen=True)
class Dimension:
    id: str
    codes: tuple[str, ...]  # in index order
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Dataset:
    dimensions: tuple[Dimension, ...]
    values: Mapping[int, float | None]  # flat position -> value (absent = not in the answer)
    updated: str | None
    label: str | None

    @property
    def size(self) -> int:
        return prod(len(d.codes) for d in self.dimensions)

    def dimension(self, dim_id: str) -> Dimension:
        for dim in self.dimensions:
            if dim.id == dim_id:
                return dim
        raise JsonStatError(f"no dimension {dim_id!r}; dimensions: "
                            f"{', '.join(d.id for d in self.dimensions)}")

    def cells(self) -> Iterator[tuple[dict[str, str], float | None]]:
        """({dimension id: category code}, value) for every position that has an entry."""
        sizes = [len(d.codes) for d in self.dimensions]
        for position in sorted(self.values):
            coords: dict[str, str] = {}
            rest = position
            for dim, size in zip(reversed(self.dimensions), reversed(sizes), strict=True):
                rest, index = divmod(rest, size)
                coords[dim.id] = dim.codes[index]
            yield {d.id: coords[d.id] for d in self.dimensions}, self.values[position]


def _category_codes(dim_id: str, category: Any) -> tuple[str, ...]:
    if not isinstance(category, dict):
        raise JsonStatError(f"dimension {dim_id}: category is not an object")
    index = category.get("index")
    if index is None:
        # A single-category dimension may omit index and give only a label.
        labels = category.get("label")
        if isinstance(labels, dict) and len(labels) == 1:
            return (next(iter(labels)),)
        raise JsonStatError(f"dimension {dim_id}: category has no index")
    if isinstance(index, list):
        codes = [str(c) for c in index]
    elif isinstance(index, dict):
        by_position: dict[int, str] = {}
        for code, pos in index.items():
            if isinstance(pos, bool) or not isinstance(pos, int) or pos < 0:
                raise JsonStatError(f"dimension {dim_id}: index of {code!r} is {pos!r}")
            if pos in by_position:
                raise JsonStatError(f"dimension {dim_id}: position {pos} given twice")
            by_position[pos] = str(code)
        if sorted(by_position) != list(range(len(by_position))):
            raise JsonStatError(f"dimension {dim_id}: index positions are not 0..n-1")
        codes = [by_position[i] for i in range(len(by_position))]
    else:
        raise JsonStatError(f"dimension {dim_id}: index is neither a list nor an object")
    if len(set(codes)) != len(codes):
        raise JsonStatError(f"dimension {dim_id}: a category code repeats")
    return tuple(codes)


def _number(value: Any, position: int) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise JsonStatError(f"value[{position}] is {value!r}, not a number or null")
    return float(value)


def decode(doc: Any) -> Dataset:
    """Read a json-stat2 dataset (`class: dataset`, `id`, `size`, `dimension`, `value`)."""
    if not isinstance(doc, dict):
        raise JsonStatError(f"expected a JSON object, got {type(doc).__name__}")
    if doc.get("class", "dataset") != "dataset":
        raise JsonStatError(f"class is {doc.get('class')!r}, expected 'dataset'")
    ids, sizes, dims = doc.get("id"), doc.get("size"), doc.get("dimension")
    if not isinstance(ids, list) or not isinstance(sizes, list) or not isinstance(dims, dict):
        raise JsonStatError("a dataset needs `id` (list), `size` (list) and `dimension` "
                            "(object)")
    if len(ids) != len(sizes):
        raise JsonStatError(f"`id` has {len(ids)} entries but `size` has {len(sizes)}")
    dimensions: list[Dimension] = []
    for dim_id, size in zip(ids, sizes, strict=True):
        dim = dims.get(dim_id)
        if not isinstance(dim, dict):
            raise JsonStatError(f"dimension {dim_id} is listed in `id` but not described")
        category = dim.get("category")
        codes = _category_codes(dim_id, category)
        if len(codes) != size:
            raise JsonStatError(f"dimension {dim_id}: size says {size} but the category "
                                f"has {len(codes)} codes")
        raw_labels = category.get("label") if isinstance(category, dict) else None
        labels = {str(k): str(v) for k, v in (raw_labels or {}).items()}
        dimensions.append(Dimension(str(dim_id), codes, labels))
    total = prod(sizes)
    raw = doc.get("value")
    values: dict[int, float | None] = {}
    if isinstance(raw, list):
        if len(raw) != total:
            raise JsonStatError(f"`value` has {len(raw)} entries but the sizes {sizes} make "
                                f"{total} cells")
        values = {i: _number(v, i) for i, v in enumerate(raw)}
    elif isinstance(raw, dict):  # sparse: {"position": value}
        for key, v in raw.items():
            try:
                position = int(key)
            except ValueError:
                raise JsonStatError(f"sparse `value` key {key!r} is not a position") from None
            if not 0 <= position < total:
                raise JsonStatError(f"sparse `value` position {position} is outside 0..{total - 1}")
            values[position] = _number(v, position)
    else:
        raise JsonStatError("`value` is neither a list nor an object")
    updated = doc.get("updated")
    return Dataset(tuple(dimensions), values, str(updated) if updated else None,
                   doc.get("label"))


def selection_cells(selection: Sequence[tuple[str, Sequence[str]]]) -> int:
    """How many cells a selection asks for: the product of its value lists."""
    return prod(len(codes) for _, codes in selection)
