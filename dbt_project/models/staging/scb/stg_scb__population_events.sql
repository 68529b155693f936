/*
    Every event of the SCB population stream recorded up to var('as_of'), typed: the key's
    parts (municipality|year|age_band, in Kolada's unit codes) and the payload's population.
    source_url carries the provenance: the table URL, the table's `updated` stamp and the
    sha256 of the POST body that asked for the figure.
*/
with

source as (
    select * from {{ source('scb', 'population') }}
    where recorded_at <= {{ as_of_timestamp() }}
),

renamed as (
    select
        entity_key,
        {{ split_text_part('entity_key', '|', 1) }} as municipality_id,
        cast({{ split_text_part('entity_key', '|', 2) }} as integer) as year,
        {{ split_text_part('entity_key', '|', 3) }} as age_band,
        event_type,
        cast({{ json_text('payload', 'population') }} as bigint) as population,
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
