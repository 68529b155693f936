/*
    One row per unit the log has ever listed: its last known name and kommun (from its latest
    upserted event, so a closed unit keeps the name it had), whether Kolada still lists it
    (is_open) and its kind (the id's first three characters, named by the seed unit_kinds).
    A closed school's published years stay comparable; the report marks it as closed.
*/
with

history as (
    select * from {{ ref('int_ous_historized') }}
),

kinds as (
    select * from {{ ref('unit_kinds') }}
),

last_version as (
    select
        ou_id,
        municipality_id,
        name,
        row_number() over (partition by ou_id order by recorded_at desc, batch_id desc) as recency
    from history
    where event_type = 'upserted'
),

current_event as (
    select ou_id, event_type = 'upserted' as is_open
    from history
    where is_current
),

final as (
    select
        last_version.ou_id,
        last_version.name as ou_name,
        last_version.municipality_id,
        substr(last_version.ou_id, 1, 3) as unit_kind,
        coalesce(kinds.kind_name, substr(last_version.ou_id, 1, 3)) as kind_name,
        coalesce(kinds.kind_plural, substr(last_version.ou_id, 1, 3)) as kind_plural,
        coalesce(kinds.sort_order, 99) as kind_sort_order,
        current_event.is_open
    from last_version
    inner join current_event
        on last_version.ou_id = current_event.ou_id
    left join kinds
        on substr(last_version.ou_id, 1, 3) = kinds.unit_kind
    where last_version.recency = 1
)

select * from final
