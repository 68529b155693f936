-- Current KPI groups as of var('as_of'); members stay a JSON array (unnested in intermediate/).
with

source as (
    {{ current_events('kpi_group') }}
),

renamed as (
    select
        {{ json_text('payload', 'id') }} as kpi_group_id,
        {{ json_text('payload', 'title') }} as title,
        {{ json_raw('payload', 'members') }} as members,
        recorded_at,
        batch_id,
    from source
),

final as (
    select * from renamed
)

select * from final
