/*
    The board table of a municipal KKiK report: one row per kommun × KKiK KPI for the KPI's
    latest year, the newest year in which the KPI has a value for at least one kommun (per KPI,
    so a KPI published later than the others does not empty the table). Utfall Y, Y-1, Y-2,
    change and colour are the scorecard's, read from it and only labelled here; the liknande
    kommuner mean is traceable to its members in mart_kkik_peer_members.
    A series break is shown, not hidden: series_start_year is the first year of the KPI's current
    definition and across_series_break says that Y-1 or Y-2 beside Y was measured under the old
    one (the values stay, the reader is told).
*/
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_changed_kpis() }}") }}
-- Incremental by kpi_id (macros/incremental.sql): only the changed KPIs are recomputed.
with

scorecard as (
    select * from {{ ref('mart_kkik_scorecard') }}
    where {{ in_changed_kpis('kpi_id') }}
),

municipalities as (
    select * from {{ ref('int_municipalities_enriched') }}
),

latest_years as (
    select
        kpi_id,
        max(year) as latest_year
    from scorecard
    where value is not null
    group by kpi_id
),

liknande_members as (
    select
        members.municipality_id,
        members.year,
        min(members.peer_set_name) as liknande_set_name,
        {{ string_list('peers.municipality_name', 'peers.municipality_name', ', ') }} as liknande_names,
        {{ string_list('members.member_id', 'members.member_id', ',') }} as liknande_ids
    from {{ ref('int_peer_set_members') }} as members
    inner join municipalities as peers
        on members.member_id = peers.municipality_id
    where members.peer_set_type = 'liknande_kommuner'
    group by members.municipality_id, members.year
),

final as (
    select
        scorecard.municipality_id,
        scorecard.municipality_name,
        scorecard.kkik_area,
        scorecard.kpi_id,
        scorecard.kpi_title,
        scorecard.unit,
        scorecard.direction,
        scorecard.year,
        scorecard.value,
        scorecard.value_y1,
        scorecard.value_y2,
        scorecard.change,
        scorecard.series_start_year,
        coalesce(
            scorecard.series_start_year > scorecard.year - 2
            and scorecard.series_start_year <= scorecard.year,
            false
        ) as across_series_break,
        scorecard.colour,
        case scorecard.colour
            when 'green' then 'Bästa gruppen'
            when 'yellow' then 'Mellersta gruppen'
            when 'red' then 'Sämsta gruppen'
            else 'Ej jämförbart'
        end as comparison,
        scorecard.riket_value,
        municipalities.kommungrupp_code,
        scorecard.kommungrupp_name,
        scorecard.kommungrupp_mean,
        liknande_members.liknande_set_name,
        scorecard.liknande_mean,
        liknande_members.liknande_names,
        liknande_members.liknande_ids
    from scorecard
    inner join latest_years
        on scorecard.kpi_id = latest_years.kpi_id
        and scorecard.year = latest_years.latest_year
    left join municipalities
        on scorecard.municipality_id = municipalities.municipality_id
    left join liknande_members
        on scorecard.municipality_id = liknande_members.municipality_id
        and scorecard.year = liknande_members.year
)

select * from final
