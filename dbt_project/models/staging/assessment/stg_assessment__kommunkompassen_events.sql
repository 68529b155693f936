/*
    Every event of the Kommunkompassen stream recorded up to var('as_of'), typed: the key's
    parts (municipality|year|version|area, read from entity_key so that a tombstone without a
    payload still has them) and the payload's label, score, benchmark, stated total and texts.
    Current state is built on this in intermediate/.
*/
with

source as (
    select * from {{ source('assessment', 'kommunkompassen') }}
    where recorded_at <= {{ as_of_timestamp() }}
),

renamed as (
    select
        entity_key,
        {{ split_text_part('entity_key', '|', 1) }} as municipality_id,
        cast({{ split_text_part('entity_key', '|', 2) }} as integer) as assessment_year,
        cast({{ split_text_part('entity_key', '|', 3) }} as integer) as version,
        cast({{ split_text_part('entity_key', '|', 4) }} as integer) as area_number,
        event_type,
        {{ json_text('payload', 'area_label') }} as area_label,
        cast({{ json_text('payload', 'score') }} as double) as score,
        cast({{ json_text('payload', 'benchmark') }} as double) as benchmark,
        cast({{ json_text('payload', 'total_stated') }} as double) as total_stated,
        {{ json_text('payload', 'strengths') }} as strengths,
        {{ json_text('payload', 'improvement_areas') }} as improvement_areas,
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
