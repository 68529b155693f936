/*
    Unweighted mean and median (ovägt medel) of a peer set's members' values, per peer set ×
    KKiK KPI × year, gender T; members without a value are left out and counted in
    peers_with_value. KKiK KPIs only: its readers (mart_kkik_scorecard, mart_kkik_peer_values)
    join it to KKiK rows, and the join of every member with every KPI is the build's largest
    (on workload M, 500 KPIs: ~25M rows into a median per peer set x KPI x year, for 40 KPIs
    that anyone reads).
*/
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_changed_kpis() }}") }}
-- Incremental by kpi_id (macros/incremental.sql): only the changed KPIs are recomputed.
with

peer_set_members as (
    select distinct
        peer_set_type,
        peer_set_id,
        year,
        member_id
    from {{ ref('int_peer_set_members') }}
),

kkik_kpis as (
    select kpi_id from {{ ref('int_kpis_curated') }}
    where is_kkik
),

annual as (
    select annual_values.*
    from {{ ref('int_kpi_values_annual') }} as annual_values
    inner join kkik_kpis
        on annual_values.kpi_id = kkik_kpis.kpi_id
    where annual_values.value is not null
        and {{ in_changed_kpis('annual_values.kpi_id') }}
),

final as (
    select
        peer_set_members.peer_set_type,
        peer_set_members.peer_set_id,
        annual.kpi_id,
        peer_set_members.year,
        {{ exact_mean('annual.value') }} as peer_mean,
        cast({{ median('annual.value') }} as double) as peer_median,
        cast(count(annual.value) as integer) as peers_with_value
    from peer_set_members
    inner join annual
        on peer_set_members.member_id = annual.municipality_id
        and peer_set_members.year = annual.year
    group by
        peer_set_members.peer_set_type,
        peer_set_members.peer_set_id,
        annual.kpi_id,
        peer_set_members.year
)

select * from final
