/*
    Every event of stream kolada.kpi (Kolada v3 kpi objects) recorded up to var('as_of'), with
    the payload's fields as typed columns. The key is the KPI id.
*/
with

source as (
    select * from {{ source('kolada', 'kpi') }}
    where recorded_at <= {{ as_of_timestamp() }}
),

renamed as (
    select
        entity_key,
        entity_key as kpi_id,
        event_type,
        {{ json_text('payload', 'title') }} as title,
        {{ json_text('payload', 'description') }} as description,
        cast({{ json_text('payload', 'is_divided_by_gender') }} as boolean) as is_divided_by_gender,
        {{ json_text('payload', 'municipality_type') }} as municipality_type,
        {{ json_text('payload', 'auspice') }} as auspice,
        {{ json_text('payload', 'operating_area') }} as operating_area,
        {{ json_text('payload', 'perspective') }} as perspective,
        {{ json_text('payload', 'prel_publication_date') }} as prel_publication_date,
        {{ json_text('payload', 'publication_date') }} as publication_date,
        {{ json_text('payload', 'publ_period') }} as publ_period,
        cast({{ json_text('payload', 'has_ou_data') }} as boolean) as has_ou_data,
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
