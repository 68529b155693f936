/*
    Every event of stream kolada.municipality_group (SKR kommungrupper, Liknande kommuner, ...)
    recorded up to var('as_of'), typed. The key is the group id; members stay the payload's JSON
    array of {member_id, member_title}, unnested by the models that need one row per member.
*/
with

source as (
    select * from {{ source('kolada', 'municipality_group') }}
    where recorded_at <= {{ as_of_timestamp() }}
),

renamed as (
    select
        entity_key,
        entity_key as municipality_group_id,
        event_type,
        {{ json_text('payload', 'title') }} as title,
        {{ json_raw('payload', 'members') }} as members,
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
