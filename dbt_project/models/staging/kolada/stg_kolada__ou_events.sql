/*
    Every event of stream kolada.ou (organisational units: schools, preschools, care homes)
    recorded up to var('as_of'), typed. The key is the unit id; its first three characters are
    the unit's kind (V15 = grundskola, see the seed unit_kinds).
*/
with

source as (
    select * from {{ source('kolada', 'ou') }}
    where recorded_at <= {{ as_of_timestamp() }}
),

renamed as (
    select
        entity_key,
        entity_key as ou_id,
        event_type,
        {{ json_text('payload', 'municipality') }} as municipality_id,
        {{ json_text('payload', 'title') }} as name,
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
