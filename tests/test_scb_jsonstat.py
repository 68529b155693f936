"""json-stat2 decoding on several shapes: any dimension order and size, dense or sparse."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from pipelines.sources.scb.jsonstat import JsonStatError, decode, selection_cells
from pipelines.sources.scb.records import (
    Provenance,
    ScbParseError,
    band_of,
    check_ages_complete,
    population_records,
    to_kolada_unit,
    to_scb_region,
)

PROV = Provenance(url="http://127.0.0.1/api/v2/tables/T/data", table="T", updated="2025-02-21",
                  body_sha256="ab" * 32)


def dataset(dims: dict[str, list[str]], order: list[str], value_of, *, index_as_list=False,
            sparse=False) -> dict[str, Any]:
    """A json-stat2 document whose value at each cell is value_of(coords), in `order`."""
    cells = [dict(zip(order, combo, strict=True))
             for combo in itertools.product(*(dims[d] for d in order))]
    values = [value_of(c) for c in cells]
    return {
        "class": "dataset", "version": "2.0", "updated": "2025-02-21T07:00:00Z",
        "id": order, "size": [len(dims[d]) for d in order],
        "dimension": {d: {"category": {
            "index": list(dims[d]) if index_as_list else {c: i for i, c in enumerate(dims[d])},
            "label": {c: c for c in dims[d]},
        }} for d in order},
        "value": ({str(i): v for i, v in enumerate(values) if v is not None} if sparse
                  else values),
    }


DIMS = {"Region": ["00", "17", "1784"], "Alder": ["0", "1", "2", "3"], "Tid": ["2023", "2024"],
        "ContentsCode": ["BE0101N1"]}


def truth(c: dict[str, str]) -> float:
    """A value that identifies its cell, so a misplaced number cannot go unnoticed."""
    return (DIMS["Region"].index(c["Region"]) * 1000 + int(c["Alder"]) * 10
            + DIMS["Tid"].index(c["Tid"]))


@pytest.mark.parametrize("order", [list(p) for p in itertools.permutations(DIMS)][::5])
@pytest.mark.parametrize("index_as_list", [False, True])
def test_every_cell_lands_on_its_coordinates_in_any_order(order, index_as_list) -> None:
    ds = decode(dataset(DIMS, order, truth, index_as_list=index_as_list))
    assert [d.id for d in ds.dimensions] == order
    assert ds.size == 3 * 4 * 2
    seen = list(ds.cells())
    assert len(seen) == 24
    for coords, value in seen:
        assert value == truth(coords), coords


def test_sparse_values_keep_their_positions_and_leave_gaps() -> None:
    order = ["Tid", "Region", "Alder", "ContentsCode"]
    doc = dataset(DIMS, order, lambda c: None if c["Alder"] == "2" else truth(c), sparse=True)
    cells = {tuple(c.values()): v for c, v in decode(doc).cells()}
    assert len(cells) == 18  # 6 of 24 cells are missing
    assert cells[("2024", "1784", "3", "BE0101N1")] == truth(
        {"Region": "1784", "Alder": "3", "Tid": "2024"})
    assert not any(key[2] == "2" for key in cells)


def test_index_given_as_object_out_of_order_is_read_by_position() -> None:
    doc = dataset({"A": ["x", "y"], "B": ["p", "q", "r"]}, ["A", "B"],
                  lambda c: {"x": 0, "y": 3}[c["A"]] + "pqr".index(c["B"]))
    doc["dimension"]["B"]["category"]["index"] = {"r": 2, "p": 0, "q": 1}
    assert {(c["A"], c["B"]): v for c, v in decode(doc).cells()} == {
        ("x", "p"): 0, ("x", "q"): 1, ("x", "r"): 2, ("y", "p"): 3, ("y", "q"): 4, ("y", "r"): 5}


def test_single_category_dimension_without_index() -> None:
    doc = dataset({"A": ["x", "y"], "C": ["only"]}, ["A", "C"], lambda c: 1.0)
    doc["dimension"]["C"]["category"].pop("index")
    assert [c["C"] for c, _ in decode(doc).cells()] == ["only", "only"]


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(size=[3, 4]), "`id` has 4 entries but `size` has 2"),
    (lambda d: d.update(value=d["value"][:-1]), "`value` has 23 entries"),
    (lambda d: d["size"].__setitem__(0, 5), "size says 5 but the category has 3"),
    (lambda d: d["dimension"].pop("Alder"), "Alder is listed in `id` but not described"),
    (lambda d: d.update(value={"24": 1.0}), "position 24 is outside 0..23"),
    (lambda d: d.update(value={"x": 1.0}), "key 'x' is not a position"),
    (lambda d: d["value"].__setitem__(3, "12"), "value[3] is '12'"),
    (lambda d: d.update({"class": "collection"}), "expected 'dataset'"),
    (lambda d: d["dimension"]["Tid"]["category"].update(index={"2023": 0, "2024": 0}),
     "position 0 given twice"),
])
def test_malformed_documents_are_refused_with_the_part_named(mutate, message) -> None:
    doc = dataset(DIMS, list(DIMS), truth)
    mutate(doc)
    with pytest.raises(JsonStatError, match=message.replace("(", r"\(").replace("[", r"\[")):
        decode(doc)


def test_selection_cells_is_the_product() -> None:
    assert selection_cells([("Region", ["00", "01"]), ("Alder", list("0123")), ("Tid", ["1"])]) == 8


def test_codes_map_between_scb_and_kolada() -> None:
    assert [to_kolada_unit(c) for c in ("00", "01", "17", "25", "1784")] == [
        "0000", "0001", "0017", "0025", "1784"]
    assert [to_scb_region(c) for c in ("0000", "0001", "0025", "0180")] == ["00", "01", "25",
                                                                             "0180"]
    for bad in ("0", "017", "abcd"):
        with pytest.raises(ScbParseError):
            to_kolada_unit(bad)


def test_bands_cover_every_age_once() -> None:
    assert [band_of(a) for a in (0, 5, 6, 15, 16, 19, 20, 64, 65, 79, 80, 100)] == [
        "0-5", "0-5", "6-15", "6-15", "16-19", "16-19", "20-64", "20-64", "65-79", "65-79",
        "80+", "80+"]
    with pytest.raises(ScbParseError, match=r"lacks ages \[42\]"):
        check_ages_complete([str(a) for a in range(100) if a != 42] + ["100+"])


AGES = [str(a) for a in range(100)] + ["100+"]


def population_doc(order: list[str], sexes: list[str] | None = None, missing_age: str | None = None):
    dims = {"Region": ["00", "1784"], "Alder": AGES, "ContentsCode": ["BE0101N1"],
            "Tid": ["2023", "2024"]}
    if sexes:
        dims["Kon"] = sexes
    order = [d for d in order if d in dims]

    def value(c: dict[str, str]) -> float | None:
        if c["Alder"] == missing_age and c["Tid"] == "2024":
            return None
        age = 100 if c["Alder"] == "100+" else int(c["Alder"])
        return float((2 if c["Region"] == "00" else 1) * (age + 1) + int(c["Tid"]) - 2023)

    return decode(dataset(dims, order, value))


def test_population_records_sum_single_ages_into_bands_in_any_order() -> None:
    a = population_records(population_doc(["Region", "Alder", "ContentsCode", "Tid"]), PROV)
    b = population_records(population_doc(["Tid", "ContentsCode", "Alder", "Region"]), PROV)
    assert [r.payload for r in a] == [r.payload for r in b]
    by_key = {(r.payload["municipality"], r.payload["year"], r.payload["age_band"]):
              r.payload["population"] for r in a}
    assert len(by_key) == 2 * 2 * 6
    # Arvika 2023, ages 0-5 hold 1..6 -> 21; Riket doubles; 2024 adds one per age
    assert by_key[("1784", 2023, "0-5")] == 21
    assert by_key[("0000", 2023, "0-5")] == 42
    assert by_key[("1784", 2024, "0-5")] == 27
    assert by_key[("1784", 2023, "80+")] == sum(range(81, 102))
    assert all(r.source == PROV.source() and "body_sha256=" + "ab" * 32 in r.source for r in a)


def test_population_records_sum_over_sex_when_it_was_not_eliminated() -> None:
    one = population_records(population_doc(["Region", "Alder", "ContentsCode", "Tid"]), PROV)
    two = population_records(population_doc(["Region", "Kon", "Alder", "ContentsCode", "Tid"],
                                            sexes=["1", "2"]), PROV)
    assert [r.payload["population"] * 2 for r in one] == [r.payload["population"] for r in two]


def test_a_band_with_a_missing_age_is_left_out_not_underestimated() -> None:
    records = population_records(population_doc(["Region", "Alder", "ContentsCode", "Tid"],
                                                missing_age="70"), PROV)
    keys = {(r.payload["municipality"], r.payload["year"], r.payload["age_band"]) for r in records}
    assert ("1784", 2024, "65-79") not in keys and ("0000", 2024, "65-79") not in keys
    assert ("1784", 2023, "65-79") in keys and ("1784", 2024, "80+") in keys
    assert len(keys) == 22


def test_an_answer_holding_part_of_a_band_yields_no_sum_for_it() -> None:
    # a query split along Alder: this answer holds ages 0-69 only
    dims = {"Region": ["1784"], "Alder": [str(a) for a in range(70)],
            "ContentsCode": ["BE0101N1"], "Tid": ["2024"]}
    doc = decode(dataset(dims, list(dims), lambda c: 1.0))
    bands = {r.payload["age_band"] for r in population_records(doc, PROV, ages=AGES)}
    assert bands == {"0-5", "6-15", "16-19", "20-64"}
