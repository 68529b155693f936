/*
    Municipalities, regions and Riket as known at var('as_of'), the units every other model
    joins to: each unit's latest event (recorded_at desc, batch_id desc), tombstones removed.
*/
with

events as (
    select * from {{ ref('stg_kolada__municipality_events') }}
),

ranked as (
    select
        *,
        {{ event_recency() }} as recency,
    from events
),

final as (
    select
        municipality_id,
        name,
        type,
        payload_hash,
        recorded_at,
        batch_id,
        source_url
    from ranked
    where recency = 1
        and event_type = 'upserted'
)

select * from final
