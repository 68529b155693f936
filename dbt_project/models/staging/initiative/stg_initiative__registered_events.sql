/*
    Every event of the initiative stream recorded up to var('as_of'), typed: the key's parts
    (municipality|initiative) and the payload's title, KPI list, start year, peer set and
    description. source_file is the imported file's name and sha256.
*/
with

source as (
    select * from {{ source('initiative', 'registered') }}
    where recorded_at <= {{ as_of_timestamp() }}
),

renamed as (
    select
        entity_key,
        {{ split_text_part('entity_key', '|', 1) }} as municipality_id,
        {{ split_text_part('entity_key', '|', 2) }} as initiative_id,
        event_type,
        {{ json_text('payload', 'title') }} as title,
        {{ json_text('payload', 'kpis') }} as kpi_ids,
        cast({{ json_text('payload', 'start_year') }} as integer) as start_year,
        {{ json_text('payload', 'peer_set') }} as peer_set,
        {{ json_text('payload', 'description') }} as description,
        payload_hash,
        recorded_at,
        batch_id,
        source as source_file,
    from source
),

final as (
    select * from renamed
)

select * from final
