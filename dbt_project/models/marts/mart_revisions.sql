/*
    What changed between var('from_watermark') (exclusive; null = nothing before) and
    var('to_watermark') (inclusive; null = as_of), at every level the platform publishes: the
    state of every key at each end is its latest event recorded up to that moment, and the two
    states are compared (macros/revisions.sql). A revision says what changed in changed_fields
    (value, count, status; title for KPIs and units), so a count-only revision no longer reads
    "7.49 -> 7.49".

    `level` says what the row is about: 'kommun' (a value of a kommun, region or Riket),
    'unit' (a unit's value, or a unit listed, renamed or closed by Kolada; with ou_id, the
    unit's name and its kommun) or 'kpi' (a KPI added, retitled or removed). Unit change types
    carry their own names (unit_value_*, unit_*), so a reader of the municipal value types
    (mart_rank_changes, the report's counts) never mixes the two.
*/
-- reads the window since the last publication: rebuilt every build (pipelines.warehouse.selection)
{{ config(tags=['since_last_publication']) }}
with

bounds as (
    {{ revision_bounds() }}
),

units as (
    select * from {{ ref('int_ous_latest') }}
),

value_changes as (
    select
        {{ change_type_between('value_added', 'value_deleted', 'value_revised',
                               'before.payload_hash <> after.payload_hash') }} as change_type,
        'kommun' as level,
        coalesce(after.entity_key, before.entity_key) as entity_key,
        coalesce(after.kpi_id, before.kpi_id) as kpi_id,
        coalesce(after.municipality_id, before.municipality_id) as municipality_id,
        cast(null as varchar) as ou_id,
        coalesce(after.period, before.period) as period,
        coalesce(after.gender, before.gender) as gender,
        {{ side_value('before', 'value') }} as old_value,
        {{ side_value('after', 'value') }} as new_value,
        {{ side_value('before', 'value_count') }} as old_count,
        {{ side_value('after', 'value_count') }} as new_count,
        {{ side_value('before', 'status') }} as old_status,
        {{ side_value('after', 'status') }} as new_status,
        cast(null as varchar) as old_title,
        cast(null as varchar) as new_title,
        before.recorded_at as old_recorded_at,
        after.recorded_at as new_recorded_at
    from {{ compared_states(ref('int_kpi_values_historized'), 'entity_key') }}
),

kpi_changes as (
    select
        {{ change_type_between('kpi_added', 'kpi_removed', 'kpi_retitled',
                               'before.title <> after.title') }} as change_type,
        'kpi' as level,
        coalesce(after.kpi_id, before.kpi_id) as entity_key,
        coalesce(after.kpi_id, before.kpi_id) as kpi_id,
        cast(null as varchar) as municipality_id,
        cast(null as varchar) as ou_id,
        cast(null as integer) as period,
        cast(null as varchar) as gender,
        cast(null as double) as old_value,
        cast(null as double) as new_value,
        cast(null as integer) as old_count,
        cast(null as integer) as new_count,
        cast(null as varchar) as old_status,
        cast(null as varchar) as new_status,
        {{ side_value('before', 'title') }} as old_title,
        {{ side_value('after', 'title') }} as new_title,
        before.recorded_at as old_recorded_at,
        after.recorded_at as new_recorded_at
    from {{ compared_states(ref('int_kpis_historized'), 'kpi_id') }}
),

unit_value_changes as (
    select
        {{ change_type_between('unit_value_added', 'unit_value_deleted', 'unit_value_revised',
                               'before.payload_hash <> after.payload_hash') }} as change_type,
        'unit' as level,
        coalesce(after.entity_key, before.entity_key) as entity_key,
        coalesce(after.kpi_id, before.kpi_id) as kpi_id,
        cast(null as varchar) as municipality_id,  -- the unit's kommun, joined below
        coalesce(after.ou_id, before.ou_id) as ou_id,
        coalesce(after.period, before.period) as period,
        coalesce(after.gender, before.gender) as gender,
        {{ side_value('before', 'value') }} as old_value,
        {{ side_value('after', 'value') }} as new_value,
        {{ side_value('before', 'value_count') }} as old_count,
        {{ side_value('after', 'value_count') }} as new_count,
        {{ side_value('before', 'status') }} as old_status,
        {{ side_value('after', 'status') }} as new_status,
        cast(null as varchar) as old_title,
        cast(null as varchar) as new_title,
        before.recorded_at as old_recorded_at,
        after.recorded_at as new_recorded_at
    from {{ compared_states(ref('int_ou_values_historized'), 'entity_key') }}
),

-- A unit Kolada lists for the first time, renames (its title) or no longer lists (closed).
unit_changes as (
    select
        {{ change_type_between('unit_added', 'unit_closed', 'unit_renamed',
                               'before.name <> after.name') }} as change_type,
        'unit' as level,
        coalesce(after.ou_id, before.ou_id) as entity_key,
        cast(null as varchar) as kpi_id,
        cast(null as varchar) as municipality_id,
        coalesce(after.ou_id, before.ou_id) as ou_id,
        cast(null as integer) as period,
        cast(null as varchar) as gender,
        cast(null as double) as old_value,
        cast(null as double) as new_value,
        cast(null as integer) as old_count,
        cast(null as integer) as new_count,
        cast(null as varchar) as old_status,
        cast(null as varchar) as new_status,
        {{ side_value('before', 'name') }} as old_title,
        {{ side_value('after', 'name') }} as new_title,
        before.recorded_at as old_recorded_at,
        after.recorded_at as new_recorded_at
    from {{ compared_states(ref('int_ous_historized'), 'ou_id') }}
),

unioned as (
    select * from value_changes
    union all
    select * from kpi_changes
    union all
    select * from unit_value_changes
    union all
    select * from unit_changes
),

final as (
    select
        unioned.change_type,
        unioned.entity_key,
        unioned.kpi_id,
        coalesce(unioned.municipality_id, units.municipality_id) as municipality_id,
        unioned.period,
        unioned.gender,
        unioned.old_value,
        unioned.new_value,
        cast(unioned.old_count as integer) as old_count,
        cast(unioned.new_count as integer) as new_count,
        unioned.old_status,
        unioned.new_status,
        unioned.old_title,
        unioned.new_title,
        -- the fields that differ, in a fixed order; for added and deleted rows every field
        -- that has a value on the side that exists
        {{ changed_fields([
            ('value', 'unioned.old_value', 'unioned.new_value'),
            ('count', 'unioned.old_count', 'unioned.new_count'),
            ('status', 'unioned.old_status', 'unioned.new_status'),
            ('title', 'unioned.old_title', 'unioned.new_title'),
        ]) }} as changed_fields,
        unioned.old_recorded_at,
        unioned.new_recorded_at,
        unioned.level,
        unioned.ou_id,
        units.ou_name
    from unioned
    left join units
        on unioned.ou_id = units.ou_id
    where unioned.change_type is not null
)

select * from final
