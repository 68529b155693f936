/*
    The current publication's scorecard, the "before" of mart_rank_changes: read from its Parquet
    file (var previous_scorecard, set by the build from published/current), empty before the
    first publication or when rebuilding a moment older than it.
*/
-- reads the window since the last publication: rebuilt every build (pipelines.warehouse.selection)
{{ config(tags=['since_last_publication']) }}
{%- set previous_path = build_var('previous_scorecard') %}
{%- if is_unset(previous_path) %}
-- Typed and empty, without a ref: the model's dependencies must not change with the var, or
-- the build order Dagster expects from the manifest would not be the one dbt runs.
select
    cast(null as varchar) as municipality_id,
    cast(null as varchar) as kpi_id,
    cast(null as integer) as year,
    cast(null as varchar) as kpi_title,
    cast(null as varchar) as direction,
    cast(null as double) as value,
    cast(null as integer) as rank,
    cast(null as varchar) as colour,
    cast(null as double) as kommungrupp_mean,
    cast(null as double) as liknande_mean,
    cast(null as double) as county_mean
where false
{%- else %}
select
    cast(municipality_id as varchar) as municipality_id,
    cast(kpi_id as varchar) as kpi_id,
    cast(year as integer) as year,
    cast(kpi_title as varchar) as kpi_title,
    cast(direction as varchar) as direction,
    cast(value as double) as value,
    cast(rank as integer) as rank,
    cast(colour as varchar) as colour,
    cast(kommungrupp_mean as double) as kommungrupp_mean,
    cast(liknande_mean as double) as liknande_mean,
    cast(county_mean as double) as county_mean
from read_parquet('{{ previous_path | replace("'", "''") }}')
{%- endif %}
