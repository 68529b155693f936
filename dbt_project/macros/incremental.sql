{#
    Incremental builds of the value chain (docs/performance.md, "Incremental builds").

    The models whose cost grows with the values are partitioned by kpi_id: a KPI's ranks,
    colours and peer means depend on every kommun's value of that KPI and year, Y-1/Y-2, change
    and trends on its neighbouring years, and nothing in these models reads another KPI's
    values. So a build that knows which KPIs changed since the warehouse's last build recomputes
    all years of those KPIs and leaves every other KPI's rows as they are.

    The Python side (pipelines.warehouse.incremental) decides, and writes the changed KPI ids to
    the build's vars file as `incremental_kpis`; a full rebuild runs dbt with --full-refresh,
    where is_incremental() is false and these macros filter nothing. A model is configured:

        {{ config(materialized='incremental', incremental_strategy='append',
                  on_schema_change='fail', pre_hook="{{ delete_changed_kpis() }}") }}

    and filters its value input with {{ in_changed_kpis('kpi_id') }}. The delete in the pre-hook,
    then an append of the recomputed partitions, is dbt's delete+insert done on the changed keys
    themselves: dbt's own delete+insert deletes only the keys the new rows carry, so a KPI whose
    values were all deleted (or that no longer has a KKiK year) would keep its old rows.
#}

{# The changed KPI ids as a SQL list, for `x in (...)`; an empty list matches nothing. #}
{% macro changed_kpi_list() %}
    {%- set kpis = build_var('incremental_kpis') -%}
    {%- if is_unset(kpis) -%}
        {{ exceptions.raise_compiler_error(
            "model " ~ this ~ " is built incrementally but the build vars name no changed KPIs "
            ~ "(incremental_kpis): build with `kommunkvalitet build`, or run dbt with --full-refresh") }}
    {%- endif -%}
    {{- kpi_sql_list(kpis) -}}
{% endmacro %}


{# KPI ids as the inside of a SQL `in (...)`; an empty list matches nothing. #}
{% macro kpi_sql_list(kpis) %}
    {%- if kpis | length == 0 -%}
        select cast(null as varchar) where false
    {%- else -%}
        {%- for kpi in kpis -%}
            '{{ kpi | replace("'", "''") }}'{{ ", " if not loop.last }}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}


{#
    dbt's is_incremental(), false in a dbt unit test (where `this` is None and dbt's macro
    fails): the unit tests test the formulas of a full build.
#}
{% macro kpi_incremental() %}
    {{ return(this is not none and is_incremental()) }}
{% endmacro %}


{# A predicate: true on a full build; on an incremental one, the row's KPI changed. #}
{% macro in_changed_kpis(column) -%}
    {%- if kpi_incremental() -%}
        {{ column }} in ({{ changed_kpi_list() }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{# The pre-hook: remove the changed KPIs' partitions before their new rows are appended. #}
{% macro delete_changed_kpis(column='kpi_id') -%}
    {%- if kpi_incremental() -%}
        delete from {{ this }} where {{ column }} in ({{ changed_kpi_list() }})
    {%- endif -%}
{%- endmacro %}
