-- Current KPI values as of var('as_of'): latest event per key, tombstones removed.
with

source as (
    {{ current_events('kpi_value') }}
),

renamed as (
    select
        {{ json_text('payload', 'kpi') }} as kpi_id,
        {{ json_text('payload', 'municipality') }} as municipality_id,
        cast({{ json_text('payload', 'period') }} as integer) as period,
        {{ json_text('payload', 'gender') }} as gender,
        cast({{ json_text('payload', 'value') }} as double) as value,
        cast({{ json_text('payload', 'count') }} as integer) as value_count,
        nullif({{ json_text('payload', 'status') }}, '') as status,
        entity_key,
        payload_hash,
        recorded_at,
        batch_id,
        source as source_url,
    from source
),

final as (
    select * from renamed
)

select * from final
