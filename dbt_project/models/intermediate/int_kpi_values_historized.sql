/*
    Every event of a KPI value key up to as_of, as a validity interval [valid_from, valid_to):
    what fct_kpi_values (first recorded, revision count) and mart_revisions (the state at two
    moments) read. Tombstones are kept so that "deleted at" is visible.
*/
with

events as (
    select * from {{ ref('stg_kolada__kpi_value_events') }}
),

sequenced as (
    select
        entity_key,
        kpi_id,
        municipality_id,
        period,
        gender,
        event_type,
        value,
        value_count,
        status,
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
