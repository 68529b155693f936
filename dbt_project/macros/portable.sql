{#
    The DuckDB-specific functions the project uses, in one place: porting the project to
    Trino or Spark means rewriting these macros, not the models.
#}

{% macro json_text(column, key) -%}
    json_extract_string({{ column }}, '$.{{ key }}')
{%- endmacro %}

{% macro json_raw(column, key) -%}
    json_extract({{ column }}, '$.{{ key }}')
{%- endmacro %}

{# Cross-join helper: one row per element of a JSON array at key (use in from: `, {{ ... }} as t(element)`). #}
{% macro json_array_elements(column, key) -%}
    unnest(cast(json_extract({{ column }}, '$.{{ key }}') as json[]))
{%- endmacro %}

{% macro regex_extract(column, pattern, group=0) -%}
    regexp_extract({{ column }}, '{{ pattern }}', {{ group }})
{%- endmacro %}

{% macro median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro slope(y, x) -%}
    regr_slope({{ y }}, {{ x }})
{%- endmacro %}
