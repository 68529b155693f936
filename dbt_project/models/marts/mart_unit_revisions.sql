/*
    The unit rows of mart_revisions (level 'unit'), with the unit first and Kolada's title of a
    unit called its name: unit values added, revised or deleted, and units added (Kolada lists
    them now), renamed or closed (Kolada no longer lists them), between var('from_watermark')
    and var('to_watermark'). What changed is decided once, in mart_revisions.
*/
with

revisions as (
    select * from {{ ref('mart_revisions') }}
    where level = 'unit'
),

final as (
    select
        change_type,
        entity_key,
        kpi_id,
        ou_id,
        ou_name,
        municipality_id,
        period,
        gender,
        old_value,
        new_value,
        old_title as old_name,
        new_title as new_name,
        -- a unit's title is its name here
        replace(changed_fields, 'title', 'name') as changed_fields,
        old_recorded_at,
        new_recorded_at
    from revisions
)

select * from final
