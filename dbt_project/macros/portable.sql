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

{% macro regex_extract(column, pattern, group=0) -%}
    regexp_extract({{ column }}, '{{ pattern }}', {{ group }})
{%- endmacro %}

{% macro median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{#
    Floating-point aggregates (avg, regr_slope) sum in whatever order the parallel engine
    meets the rows, so two builds could differ in the last bits. These sum exactly in
    decimal(38, 9) and convert once, so a build is bit-for-bit reproducible.
#}
{% macro exact_sum(expression) -%}
    sum(cast({{ expression }} as decimal(38, 9)))
{%- endmacro %}

{% macro exact_mean(expression) -%}
    cast(cast({{ exact_sum(expression) }} as double) / nullif(count({{ expression }}), 0) as double)
{%- endmacro %}

{# OLS slope of y on x (rows where both are non-null); x should be small integers (years). #}
{% macro slope(y, x) -%}
    cast(
        cast(
            count({{ y }}) * {{ exact_sum('case when ' ~ y ~ ' is not null then (' ~ x ~ ') * (' ~ y ~ ') end') }}
            - sum(case when {{ y }} is not null then {{ x }} end) * {{ exact_sum(y) }}
        as double)
        / nullif(
            count({{ y }}) * sum(case when {{ y }} is not null then ({{ x }}) * ({{ x }}) end)
            - sum(case when {{ y }} is not null then {{ x }} end) * sum(case when {{ y }} is not null then {{ x }} end),
            0
        )
    as double)
{%- endmacro %}

{# Ordered, delimited text aggregate (Trino: listagg ... within group). #}
{% macro string_list(expression, order_by, delimiter=',') -%}
    string_agg({{ expression }}, '{{ delimiter }}' order by {{ order_by }})
{%- endmacro %}

{# i-th (1-based) part of a text split on a delimiter. #}
{% macro split_text_part(column, delimiter, index) -%}
    split_part({{ column }}, '{{ delimiter }}', {{ index }})
{%- endmacro %}

{# One row per element of a column that already holds a JSON array (`, {{ ... }} as t(element)`). #}
{% macro json_elements(column) -%}
    unnest(cast({{ column }} as json[]))
{%- endmacro %}

{# A moment after every other: an as_of that filters nothing. #}
{% macro unbounded_timestamp() -%}
    cast('infinity' as timestamp with time zone)
{%- endmacro %}

{# A deterministic 16-hex-character id of a source URL (md5 prefix), the key of dim_source. #}
{% macro source_id(column) -%}
    substr(md5({{ column }}), 1, 16)
{%- endmacro %}
