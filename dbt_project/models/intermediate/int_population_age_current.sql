/*
    SCB population per unit x year x age band as known at var('as_of'): each key's latest
    event, tombstones removed.
*/
with

events as (
    select * from {{ ref('stg_scb__population_events') }}
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
        year,
        age_band,
        population,
        recorded_at,
        source_url
    from ranked
    where recency = 1
        and event_type = 'upserted'
)

select * from final
