/*
    Provenance: one row per source URL that delivered a KPI value event (stream
    kolada.kpi_value) up to as_of. fct_kpi_values refers to it by source_id, a hash of the URL
    (macro source_id), so the URL is published once instead of on every value and a rebuild of
    the same event log publishes the same ids.
*/
with

events as (
    select * from {{ ref('stg_kolada__kpi_value_events') }}
    where source_url is not null
),

final as (
    select
        {{ source_id('source_url') }} as source_id,
        source_url,
        'kolada.kpi_value' as stream,
        min(recorded_at) as first_recorded_at,
        max(recorded_at) as last_recorded_at,
        max(batch_id) as last_batch_id,
        cast(count(distinct batch_id) as integer) as batch_count,
        cast(count(*) as integer) as event_count
    from events
    group by source_url
)

select * from final
