/*
    Every event of a unit's metadata (kolada.ou) up to as_of as a validity interval
    [valid_from, valid_to): a renamed unit has two versions, a closed one ends in a tombstone.
*/
with

events as (
    select * from {{ ref('stg_kolada__ou_events') }}
),

final as (
    select
        ou_id,
        event_type,
        municipality_id,
        name,
        payload_hash,
        recorded_at,
        batch_id,
        source_url,
        {{ event_revision_number() }} as revision_number,
        recorded_at as valid_from,
        {{ event_superseded_at() }} as valid_to,
        {{ event_superseded_at() }} is null as is_current,
    from events
)

select * from final
