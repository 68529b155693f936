/*
    The liknande kommuner behind every peer mean: one row per owner kommun × peer kommun ×
    KKiK KPI × scorecard year, with the peer's value (gender T), the owner's value and the
    peer's rank among the set's members with a value (1 = best by the KPI's direction, ties
    share a rank; null for not_ranked KPIs and peers without a value). The unweighted mean of
    peer_value per owner × KPI × year is the scorecard's (and the board's) liknande_mean.
*/
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_changed_kpis() }}") }}
-- Incremental by kpi_id (macros/incremental.sql): only the changed KPIs are recomputed.
with

scorecard as (
    select * from {{ ref('mart_kkik_scorecard') }}
    where {{ in_changed_kpis('kpi_id') }}
),

members as (
    select * from {{ ref('int_peer_set_members') }}
    where peer_set_type = 'liknande_kommuner'
),

municipalities as (
    select * from {{ ref('int_municipalities_enriched') }}
),

annual as (
    select * from {{ ref('int_kpi_values_annual') }}
    where value is not null
        and {{ in_changed_kpis('kpi_id') }}
),

joined as (
    select
        scorecard.municipality_id,
        scorecard.municipality_name,
        scorecard.kpi_id,
        scorecard.direction,
        scorecard.year,
        members.peer_set_id,
        members.peer_set_name,
        members.member_id as peer_municipality_id,
        peers.municipality_name as peer_municipality_name,
        annual.value as peer_value,
        scorecard.value as owner_value
    from scorecard
    inner join members
        on scorecard.municipality_id = members.municipality_id
        and scorecard.year = members.year
    left join municipalities as peers
        on members.member_id = peers.municipality_id
    left join annual
        on members.member_id = annual.municipality_id
        and scorecard.kpi_id = annual.kpi_id
        and scorecard.year = annual.year
),

final as (
    select
        municipality_id,
        municipality_name,
        kpi_id,
        year,
        peer_set_id,
        peer_set_name,
        peer_municipality_id,
        peer_municipality_name,
        peer_value,
        owner_value,
        cast(case
            when peer_value is null or direction not in ('higher_better', 'lower_better') then null
            when direction = 'higher_better' then rank() over (
                partition by municipality_id, kpi_id, year, (peer_value is null)
                order by peer_value desc)
            else rank() over (
                partition by municipality_id, kpi_id, year, (peer_value is null)
                order by peer_value asc)
        end as integer) as peer_rank,
        cast(count(peer_value) over (partition by municipality_id, kpi_id, year) as integer) as peers_with_value
    from joined
)

select * from final
