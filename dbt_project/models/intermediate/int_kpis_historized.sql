/*
    Every event of a KPI's metadata up to as_of, as a validity interval [valid_from, valid_to):
    mart_revisions compares the titles (and added/removed KPIs) at two moments.
*/
with

events as (
    select * from {{ ref('stg_kolada__kpi_events') }}
),

sequenced as (
    select
        kpi_id,
        event_type,
        title,
        publ_period,
        payload_hash,
        recorded_at,
        batch_id,
        source_url,
        {{ event_revision_number() }} as revision_number,
        recorded_at as valid_from,
        {{ event_superseded_at() }} as valid_to,
    from events
),

final as (
    select
        *,
        valid_to is null as is_current,
    from sequenced
)

select * from final
