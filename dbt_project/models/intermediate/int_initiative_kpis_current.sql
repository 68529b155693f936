/*
    The registered initiatives as known at var('as_of'), one row per initiative x KPI: each
    key's latest event, tombstones removed, its comma-separated KPI list unnested. The peer
    set splits into its type and, for a custom network, the network's id.
*/
with

events as (
    select * from {{ ref('stg_initiative__registered_events') }}
),

ranked as (
    select
        *,
        {{ event_recency() }} as recency,
    from events
),

current_initiatives as (
    select * from ranked
    where recency = 1
        and event_type = 'upserted'
),

unnested as (
    select
        current_initiatives.*,
        trim(kpi.kpi_id) as kpi_id
    from current_initiatives,
        unnest(string_split(current_initiatives.kpi_ids, ',')) as kpi (kpi_id)
),

final as (
    select
        municipality_id,
        initiative_id,
        title,
        kpi_id,
        start_year,
        case when peer_set like 'network:%' then 'network' else peer_set end as peer_set_type,
        case when peer_set like 'network:%' then substr(peer_set, 9) end as network_id,
        description,
        source_file,
        recorded_at
    from unnested
    where kpi_id != ''
)

select * from final
