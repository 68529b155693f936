/*
    Unweighted mean and median (ovägt medel) of a peer set's members' values, per peer set ×
    KPI × year, gender T; members without a value are left out and counted in peers_with_value.
*/
with

peer_set_members as (
    select distinct
        peer_set_type,
        peer_set_id,
        year,
        member_id
    from {{ ref('int_peer_set_members') }}
),

annual as (
    select * from {{ ref('int_kpi_values_annual') }}
    where value is not null
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
