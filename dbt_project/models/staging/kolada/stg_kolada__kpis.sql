-- Current KPI metadata as of var('as_of').
with

source as (
    {{ current_events('kpi') }}
),

renamed as (
    select
        {{ json_text('payload', 'id') }} as kpi_id,
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
        recorded_at,
        batch_id,
    from source
),

final as (
    select * from renamed
)

select * from final
