/*
    What changed between var('from_watermark') (exclusive; null = nothing before) and
    var('to_watermark') (inclusive; null = as_of): the state of every key at each end is its
    latest event recorded up to that moment, and the two states are compared. A revision says
    what changed in changed_fields (value, count, status; title for KPIs), so a count-only
    revision no longer reads "7.49 -> 7.49".
*/
with

value_history as (
    select * from {{ ref('int_kpi_values_historized') }}
),

kpi_history as (
    select * from {{ ref('int_kpis_historized') }}
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
            when coalesce(before.event_type, 'deleted') = 'deleted' and after.event_type = 'upserted' then 'value_added'
            when before.event_type = 'upserted' and coalesce(after.event_type, 'deleted') = 'deleted' then 'value_deleted'
            when before.event_type = 'upserted' and after.event_type = 'upserted'
                and before.payload_hash <> after.payload_hash then 'value_revised'
        end as change_type,
        coalesce(after.entity_key, before.entity_key) as entity_key,
        coalesce(after.kpi_id, before.kpi_id) as kpi_id,
        coalesce(after.municipality_id, before.municipality_id) as municipality_id,
        coalesce(after.period, before.period) as period,
        coalesce(after.gender, before.gender) as gender,
        case when before.event_type = 'upserted' then before.value end as old_value,
        case when after.event_type = 'upserted' then after.value end as new_value,
        case when before.event_type = 'upserted' then before.value_count end as old_count,
        case when after.event_type = 'upserted' then after.value_count end as new_count,
        case when before.event_type = 'upserted' then before.status end as old_status,
        case when after.event_type = 'upserted' then after.status end as new_status,
        cast(null as varchar) as old_title,
        cast(null as varchar) as new_title,
        before.recorded_at as old_recorded_at,
        after.recorded_at as new_recorded_at
    from values_before as before
    full outer join values_after as after
        on before.entity_key = after.entity_key
),

kpis_before as (
    select kpi_history.*
    from kpi_history
    cross join bounds
    where kpi_history.valid_from <= bounds.from_at
        and (kpi_history.valid_to is null or kpi_history.valid_to > bounds.from_at)
),

kpis_after as (
    select kpi_history.*
    from kpi_history
    cross join bounds
    where kpi_history.valid_from <= bounds.to_at
        and (kpi_history.valid_to is null or kpi_history.valid_to > bounds.to_at)
),

kpi_changes as (
    select
        case
            when coalesce(before.event_type, 'deleted') = 'deleted' and after.event_type = 'upserted' then 'kpi_added'
            when before.event_type = 'upserted' and coalesce(after.event_type, 'deleted') = 'deleted' then 'kpi_removed'
            when before.event_type = 'upserted' and after.event_type = 'upserted'
                and before.title <> after.title then 'kpi_retitled'
        end as change_type,
        coalesce(after.kpi_id, before.kpi_id) as entity_key,
        coalesce(after.kpi_id, before.kpi_id) as kpi_id,
        cast(null as varchar) as municipality_id,
        cast(null as integer) as period,
        cast(null as varchar) as gender,
        cast(null as double) as old_value,
        cast(null as double) as new_value,
        cast(null as integer) as old_count,
        cast(null as integer) as new_count,
        cast(null as varchar) as old_status,
        cast(null as varchar) as new_status,
        case when before.event_type = 'upserted' then before.title end as old_title,
        case when after.event_type = 'upserted' then after.title end as new_title,
        before.recorded_at as old_recorded_at,
        after.recorded_at as new_recorded_at
    from kpis_before as before
    full outer join kpis_after as after
        on before.kpi_id = after.kpi_id
),

unioned as (
    select * from value_changes
    union all
    select * from kpi_changes
),

-- The fields that differ, in a fixed order; for added and deleted rows every field that has a
-- value on the side that exists.
with_fields as (
    select
        *,
        concat_ws(',',
            case when old_value is distinct from new_value then 'value' end,
            case when old_count is distinct from new_count then 'count' end,
            case when old_status is distinct from new_status then 'status' end,
            case when old_title is distinct from new_title then 'title' end
        ) as changed_fields_text
    from unioned
    where change_type is not null
),

final as (
    select
        change_type,
        entity_key,
        kpi_id,
        municipality_id,
        period,
        gender,
        old_value,
        new_value,
        cast(old_count as integer) as old_count,
        cast(new_count as integer) as new_count,
        old_status,
        new_status,
        old_title,
        new_title,
        nullif(changed_fields_text, '') as changed_fields,
        old_recorded_at,
        new_recorded_at
    from with_fields
)

select * from final
