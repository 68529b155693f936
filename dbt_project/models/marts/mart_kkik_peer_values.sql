{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_changed_kpis() }}") }}
-- Incremental by kpi_id (macros/incremental.sql): only the changed KPIs are recomputed.
with

scorecard as (
    select * from {{ ref('int_kkik_values_scored') }}
    where {{ in_changed_kpis('kpi_id') }}
),

peer_sets as (
    select distinct
        peer_set_type,
        peer_set_id,
        peer_set_name,
        year,
        edition_year,
        is_later_edition,
        municipality_id
    from {{ ref('int_peer_set_members') }}
),

peer_values as (
    select * from {{ ref('int_peer_set_values') }}
    where {{ in_changed_kpis('kpi_id') }}
),

final as (
    select
        scorecard.municipality_id,
        scorecard.kpi_id,
        cast(scorecard.year as integer) as year,
        peer_sets.peer_set_type,
        peer_sets.peer_set_id,
        peer_sets.peer_set_name,
        peer_sets.edition_year,
        peer_sets.is_later_edition,
        scorecard.value,
        peer_values.peer_mean,
        peer_values.peer_median,
        cast(coalesce(peer_values.peers_with_value, 0) as integer) as peers_with_value
    from scorecard
    inner join peer_sets
        on scorecard.municipality_id = peer_sets.municipality_id
        and scorecard.year = peer_sets.year
    left join peer_values
        on peer_sets.peer_set_type = peer_values.peer_set_type
        and peer_sets.peer_set_id = peer_values.peer_set_id
        and scorecard.kpi_id = peer_values.kpi_id
        and scorecard.year = peer_values.year
)

select * from final
