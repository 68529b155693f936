-- Every event of a KPI value key up to as_of, as a validity interval [valid_from, valid_to).
with

source as (
    {{ historized_events('kpi_value') }}
),

renamed as (
    select
        entity_key,
        {{ split_text_part('entity_key', '|', 1) }} as kpi_id,
        {{ split_text_part('entity_key', '|', 2) }} as municipality_id,
        cast({{ split_text_part('entity_key', '|', 3) }} as integer) as period,
        {{ split_text_part('entity_key', '|', 4) }} as gender,
        event_type,
        cast({{ json_text('payload', 'value') }} as double) as value,
        cast({{ json_text('payload', 'count') }} as integer) as value_count,
        nullif({{ json_text('payload', 'status') }}, '') as status,
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
