/*
    Municipality groups as known at var('as_of'), read for the SKR kommungrupp membership: each
    group's latest event (recorded_at desc, batch_id desc), tombstones removed; members stay a
    JSON array.
*/
with

events as (
    select * from {{ ref('stg_kolada__municipality_group_events') }}
),

ranked as (
    select
        *,
        {{ event_recency() }} as recency,
    from events
),

final as (
    select
        municipality_group_id,
        title,
        members,
        payload_hash,
        recorded_at,
        batch_id,
        source_url
    from ranked
    where recency = 1
        and event_type = 'upserted'
)

select * from final
