/*
    Every unit-value event (kolada.ou_value) up to as_of as a validity interval
    [valid_from, valid_to), for mart_unit_revisions (the state at two moments).
*/
with

events as (
    select * from {{ ref('stg_kolada__ou_value_events') }}
),

final as (
    select
        entity_key,
        kpi_id,
        ou_id,
        period,
        gender,
        event_type,
        value,
        value_count,
        status,
        payload_hash,
        recorded_at,
        batch_id,
        recorded_at as valid_from,
        {{ event_superseded_at() }} as valid_to,
    from events
)

select * from final
