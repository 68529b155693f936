/*
    Current unit values for gender T, one row per KPI × unit × year: each key's latest event
    (recorded_at desc, batch_id desc), tombstones removed, with the unit's kommun and kind. A
    value of a unit the ou stream has never listed has no kommun and kind and is left out.
*/
with

events as (
    select * from {{ ref('stg_kolada__ou_value_events') }}
    where gender = 'T'
),

ranked as (
    select
        *,
        {{ event_recency() }} as recency,
    from events
),

units as (
    select * from {{ ref('int_ous_latest') }}
),

final as (
    select
        ranked.kpi_id,
        ranked.ou_id,
        units.ou_name,
        units.municipality_id,
        units.unit_kind,
        units.is_open,
        ranked.period as year,
        ranked.value,
        ranked.recorded_at,
        ranked.batch_id
    from ranked
    inner join units
        on ranked.ou_id = units.ou_id
    where ranked.recency = 1
        and ranked.event_type = 'upserted'
)

select * from final
