"""The Kommunkompassen stream: the one place its name, key and payload shape are written down.

A file's scope is the assessments it contains (municipality x year x version), so importing
a file with some municipalities' results never deletes the other municipalities' results.
"""

from __future__ import annotations

from pipelines.eventlog.streams import PayloadField, StreamSpec

SOURCE = "assessment"


def _f(name: str, type_: str = "text", description: str = "") -> PayloadField:
    return PayloadField(name, type_, description)


KOMMUNKOMPASSEN = StreamSpec(
    source=SOURCE,
    entity="kommunkompassen",
    key_parts=("municipality", "year", "version", "area"),
    payload=(
        _f("municipality", description="4-digit municipality code"),
        _f("year", "integer", "the assessment year"),
        _f("version", "integer", "question set: 2010 (2010-2019) or 2020 (2020-)"),
        _f("area", "integer", "area number 1-8 within the version"),
        _f("area_label", description="the area label as typed (else as published)"),
        _f("score", "double", "points 0-100"),
        _f("benchmark", "double", "Sverigesnitt for the area, nullable"),
        _f("total_stated", "double", "the assessment's stated total 0-800, nullable"),
        _f("strengths", description="styrkor, free text, nullable"),
        _f("improvement_areas", description="förbättringsområden, free text, nullable"),
    ),
    description="Kommunkompassen area scores, one per municipality x year x version x area, "
    "from analysts' import files (docs/assessment-import.md).",
    scope_parts=("municipality", "year", "version"),
)

STREAMS: tuple[StreamSpec, ...] = (KOMMUNKOMPASSEN,)
