-- Every event of a KPI's metadata up to as_of, as a validity interval [valid_from, valid_to).
with

source as (
    {{ historized_events('kpi') }}
),

renamed as (
    select
        entity_key as kpi_id,
        event_type,
        {{ json_text('payload', 'title') }} as title,
        payload_hash,
        recorded_at,
        batch_id,
        source_url,
        cast(revision_number as integer) as revision_number,
        valid_from,
        valid_to,
        is_current
    from source
),

final as (
    select * from renamed
)

select * from final
