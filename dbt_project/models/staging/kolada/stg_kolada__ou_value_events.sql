/*
    Every event of stream kolada.ou_value (KPI values per organisational unit) recorded up to
    var('as_of'), typed: the key's parts (kpi|ou|period|gender, from entity_key so tombstones
    have them too) and the payload's value, count and status.
*/
with

source as (
    select * from {{ source('kolada', 'ou_value') }}
    where recorded_at <= {{ as_of_timestamp() }}
),

renamed as (
    select
        entity_key,
        {{ split_text_part('entity_key', '|', 1) }} as kpi_id,
        {{ split_text_part('entity_key', '|', 2) }} as ou_id,
        cast({{ split_text_part('entity_key', '|', 3) }} as integer) as period,
        {{ split_text_part('entity_key', '|', 4) }} as gender,
        event_type,
        cast({{ json_text('payload', 'value') }} as double) as value,
        cast({{ json_text('payload', 'count') }} as integer) as value_count,
        nullif({{ json_text('payload', 'status') }}, '') as status,
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
