/*
    What changed in the unit data between var('from_watermark') (exclusive; null = nothing
    before) and var('to_watermark') (inclusive; null = as_of), as mart_revisions does for the
    municipal values: unit values added, revised or deleted, and units added (Kolada lists them
    now), renamed or closed (Kolada no longer lists them). Kept apart from mart_revisions so
    that its contract and the KKiK rank-change causes read only municipal values.
*/
with

value_history as (
    select * from {{ ref('int_ou_values_historized') }}
),

unit_history as (
    select * from {{ ref('int_ous_historized') }}
),

units as (
    select * from {{ ref('int_ous_latest') }}
),

bounds as (
    select
        {{ from_watermark_timestamp() }} as from_at,
        {{ to_watermark_timestamp() }} as to_at
),

values_before as (
    select value_history.*
    from value_history
    cross join bounds
    where value_history.valid_from <= bounds.from_at
        and (value_history.valid_to is null or value_history.valid_to > bounds.from_at)
),

values_after as (
    select value_history.*
    from value_history
    cross join bounds
    where value_history.valid_from <= bounds.to_at
        and (value_history.valid_to is null or value_history.valid_to > bounds.to_at)
),

value_changes as (
    select
        case
            when coalesce(before.event_type, 'deleted') = 'deleted' and after.event_type = 'upserted' then 'unit_value_added'
            when before.event_type = 'upserted' and coalesce(after.event_type, 'deleted') = 'deleted' then 'unit_value_deleted'
            when before.event_type = 'upserted' and after.event_type = 'upserted'
                and before.payload_hash <> after.payload_hash then 'unit_value_revised'
        end as change_type,
        coalesce(after.entity_key, before.entity_key) as entity_key,
        coalesce(after.kpi_id, before.kpi_id) as kpi_id,
        coalesce(after.ou_id, before.ou_id) as ou_id,
        coalesce(after.period, before.period) as period,
        coalesce(after.gender, before.gender) as gender,
        case when before.event_type = 'upserted' then before.value end as old_value,
        case when after.event_type = 'upserted' then after.value end as new_value,
        case when before.event_type = 'upserted' then before.value_count end as old_count,
        case when after.event_type = 'upserted' then after.value_count end as new_count,
        case when before.event_type = 'upserted' then before.status end as old_status,
        case when after.event_type = 'upserted' then after.status end as new_status,
        cast(null as varchar) as old_name,
        cast(null as varchar) as new_name,
        before.recorded_at as old_recorded_at,
        after.recorded_at as new_recorded_at
    from values_before as before
    full outer join values_after as after
        on before.entity_key = after.entity_key
),

units_before as (
    select unit_history.*
    from unit_history
    cross join bounds
    where unit_history.valid_from <= bounds.from_at
        and (unit_history.valid_to is null or unit_history.valid_to > bounds.from_at)
),

units_after as (
    select unit_history.*
    from unit_history
    cross join bounds
    where unit_history.valid_from <= bounds.to_at
        and (unit_history.valid_to is null or unit_history.valid_to > bounds.to_at)
),

unit_changes as (
    select
        case
            when coalesce(before.event_type, 'deleted') = 'deleted' and after.event_type = 'upserted' then 'unit_added'
            when before.event_type = 'upserted' and coalesce(after.event_type, 'deleted') = 'deleted' then 'unit_closed'
            when before.event_type = 'upserted' and after.event_type = 'upserted'
                and before.name <> after.name then 'unit_renamed'
        end as change_type,
        coalesce(after.ou_id, before.ou_id) as entity_key,
        cast(null as varchar) as kpi_id,
        coalesce(after.ou_id, before.ou_id) as ou_id,
        cast(null as integer) as period,
        cast(null as varchar) as gender,
        cast(null as double) as old_value,
        cast(null as double) as new_value,
        cast(null as integer) as old_count,
        cast(null as integer) as new_count,
        cast(null as varchar) as old_status,
        cast(null as varchar) as new_status,
        case when before.event_type = 'upserted' then before.name end as old_name,
        case when after.event_type = 'upserted' then after.name end as new_name,
        before.recorded_at as old_recorded_at,
        after.recorded_at as new_recorded_at
    from units_before as before
    full outer join units_after as after
        on before.ou_id = after.ou_id
),

unioned as (
    select * from value_changes
    union all
    select * from unit_changes
),

final as (
    select
        unioned.change_type,
        unioned.entity_key,
        unioned.kpi_id,
        unioned.ou_id,
        units.ou_name,
        units.municipality_id,
        unioned.period,
        unioned.gender,
        unioned.old_value,
        unioned.new_value,
        unioned.old_name,
        unioned.new_name,
        -- as mart_revisions: the fields that differ, in a fixed order
        nullif(concat_ws(',',
            case when unioned.old_value is distinct from unioned.new_value then 'value' end,
            case when unioned.old_count is distinct from unioned.new_count then 'count' end,
            case when unioned.old_status is distinct from unioned.new_status then 'status' end,
            case when unioned.old_name is distinct from unioned.new_name then 'name' end
        ), '') as changed_fields,
        unioned.old_recorded_at,
        unioned.new_recorded_at
    from unioned
    left join units
        on unioned.ou_id = units.ou_id
    where unioned.change_type is not null
)

select * from final
