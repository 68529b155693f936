/*
    KPI values as known at var('as_of'), the state the annual values and the KPI curation are
    computed from: each key's latest event (recorded_at desc, batch_id desc), tombstones removed.
*/
with

events as (
    select * from {{ ref('stg_kolada__kpi_value_events') }}
),

ranked as (
    select
        *,
        {{ event_recency() }} as recency,
    from events
),

final as (
    select
        kpi_id,
        municipality_id,
        period,
        gender,
        value,
        value_count,
        status,
        entity_key,
        payload_hash,
        recorded_at,
        batch_id,
        source_url
    from ranked
    where recency = 1
        and event_type = 'upserted'
)

select * from final
