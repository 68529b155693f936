/*
    Pivot-free reading: one row per municipality (kommun, region, Riket) × KPI with a value in
    the configured year range, one column per year (y<year>, gender T, null without a value).
    The range is var('wide_first_year')..var('wide_last_year'); the contract in
    _marts__models.yml lists the same columns (tests/test_marts_contract.py holds them in step,
    and the enforced contract fails the build when they drift).
*/
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_changed_kpis() }}") }}
-- Incremental by kpi_id (macros/incremental.sql): only the changed KPIs are recomputed.
{%- set first_year = var('wide_first_year') | int -%}
{%- set last_year = var('wide_last_year') | int %}
with

annual as (
    select * from {{ ref('int_kpi_values_annual') }}
    where year between {{ first_year }} and {{ last_year }}
        and value is not null
        and {{ in_changed_kpis('kpi_id') }}
),

municipalities as (
    select * from {{ ref('int_municipalities_enriched') }}
),

kpis as (
    select * from {{ ref('int_kpis_curated') }}
),

pivoted as (
    select
        municipality_id,
        kpi_id,
        {%- for year in range(first_year, last_year + 1) %}
        max(case when year = {{ year }} then value end) as y{{ year }}{{ ',' if not loop.last }}
        {%- endfor %}
    from annual
    group by municipality_id, kpi_id
),

final as (
    select
        pivoted.municipality_id,
        municipalities.municipality_name,
        pivoted.kpi_id,
        kpis.title as kpi_title,
        kpis.unit,
        {%- for year in range(first_year, last_year + 1) %}
        pivoted.y{{ year }}{{ ',' if not loop.last }}
        {%- endfor %}
    from pivoted
    inner join municipalities
        on pivoted.municipality_id = municipalities.municipality_id
    left join kpis
        on pivoted.kpi_id = kpis.kpi_id
)

select * from final
