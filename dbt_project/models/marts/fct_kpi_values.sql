with

history as (
    select * from {{ ref('int_kpi_values_historized') }}
),

key_history as (
    select
        entity_key,
        min(recorded_at) as first_recorded_at
    from history
    group by entity_key
),

current_values as (
    select * from history
    where is_current
        and event_type = 'upserted'
),

final as (
    select
        current_values.entity_key,
        current_values.kpi_id,
        current_values.municipality_id,
        current_values.period,
        current_values.gender,
        current_values.value,
        current_values.status,
        current_values.value_count,
        key_history.first_recorded_at,
        current_values.recorded_at as last_revised_at,
        current_values.revision_number as revision_count,
        {{ source_id("current_values.source_url") }} as source_id
    from current_values
    inner join key_history
        on current_values.entity_key = key_history.entity_key
)

select * from final
