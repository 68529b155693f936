{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_changed_kpis() }}") }}
-- Incremental by kpi_id (macros/incremental.sql): only the changed KPIs are recomputed.
with

scored as (
    select * from {{ ref('int_kkik_values_scored') }}
    where {{ in_changed_kpis('kpi_id') }}
),

municipalities as (
    select * from {{ ref('int_municipalities_enriched') }}
),

kpis as (
    select * from {{ ref('int_kpis_curated') }}
),

peer_sets as (
    select distinct
        peer_set_type,
        peer_set_id,
        peer_set_name,
        is_later_edition,
        year,
        municipality_id
    from {{ ref('int_peer_set_members') }}
    where peer_set_type in ('kommungrupp', 'liknande_kommuner', 'county')
),

peer_values as (
    select * from {{ ref('int_peer_set_values') }}
    where {{ in_changed_kpis('kpi_id') }}
),

peers_pivoted as (
    select
        peer_sets.municipality_id,
        peer_values.kpi_id,
        peer_sets.year,
        max(case when peer_sets.peer_set_type = 'kommungrupp' then peer_sets.peer_set_name end) as kommungrupp_name,
        bool_or(case when peer_sets.peer_set_type = 'kommungrupp' then peer_sets.is_later_edition end) as kommungrupp_later_edition,
        max(case when peer_sets.peer_set_type = 'kommungrupp' then peer_values.peer_mean end) as kommungrupp_mean,
        max(case when peer_sets.peer_set_type = 'kommungrupp' then peer_values.peer_median end) as kommungrupp_median,
        bool_or(case when peer_sets.peer_set_type = 'liknande_kommuner' then peer_sets.is_later_edition end) as liknande_later_edition,
        max(case when peer_sets.peer_set_type = 'liknande_kommuner' then peer_values.peer_mean end) as liknande_mean,
        max(case when peer_sets.peer_set_type = 'liknande_kommuner' then peer_values.peer_median end) as liknande_median,
        max(case when peer_sets.peer_set_type = 'county' then peer_values.peer_mean end) as county_mean,
        max(case when peer_sets.peer_set_type = 'county' then peer_values.peer_median end) as county_median
    from peer_sets
    inner join peer_values
        on peer_sets.peer_set_type = peer_values.peer_set_type
        and peer_sets.peer_set_id = peer_values.peer_set_id
        and peer_sets.year = peer_values.year
    group by peer_sets.municipality_id, peer_values.kpi_id, peer_sets.year
),

final as (
    select
        scored.municipality_id,
        municipalities.municipality_name,
        scored.kpi_id,
        kpis.title as kpi_title,
        scored.kkik_area,
        kpis.unit,
        scored.direction,
        scored.change_direction,
        scored.is_compared,
        cast(scored.year as integer) as year,
        scored.value,
        scored.value_y1,
        scored.value_y2,
        scored.rank,
        scored.ranked_count,
        scored.percentile,
        scored.colour,
        scored.change,
        scored.y1_across_series_break,
        cast(scored.series_start_year as integer) as series_start_year,
        scored.riket_value,
        peers_pivoted.kommungrupp_name,
        coalesce(peers_pivoted.kommungrupp_later_edition, false) as kommungrupp_later_edition,
        peers_pivoted.kommungrupp_mean,
        peers_pivoted.kommungrupp_median,
        coalesce(peers_pivoted.liknande_later_edition, false) as liknande_later_edition,
        peers_pivoted.liknande_mean,
        peers_pivoted.liknande_median,
        peers_pivoted.county_mean,
        peers_pivoted.county_median
    from scored
    inner join municipalities
        on scored.municipality_id = municipalities.municipality_id
    inner join kpis
        on scored.kpi_id = kpis.kpi_id
    left join peers_pivoted
        on scored.municipality_id = peers_pivoted.municipality_id
        and scored.kpi_id = peers_pivoted.kpi_id
        and scored.year = peers_pivoted.year
)

select * from final
