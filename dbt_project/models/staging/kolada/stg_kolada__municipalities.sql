-- Current municipalities, regions and Riket as of var('as_of').
with

source as (
    {{ current_events('municipality') }}
),

renamed as (
    select
        {{ json_text('payload', 'id') }} as municipality_id,
        {{ json_text('payload', 'title') }} as name,
        {{ json_text('payload', 'type') }} as type,
        recorded_at,
        batch_id,
    from source
),

final as (
    select * from renamed
)

select * from final
