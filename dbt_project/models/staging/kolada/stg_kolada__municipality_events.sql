/*
    Every event of stream kolada.municipality (municipalities, regions and Riket) recorded up to
    var('as_of'), typed. The key is the municipality id.
*/
with

source as (
    select * from {{ source('kolada', 'municipality') }}
    where recorded_at <= {{ as_of_timestamp() }}
),

renamed as (
    select
        entity_key,
        entity_key as municipality_id,
        event_type,
        {{ json_text('payload', 'title') }} as name,
        {{ json_text('payload', 'type') }} as type,
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
