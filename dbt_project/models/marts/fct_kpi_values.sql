-- The current value of every key, with when it was first recorded and how often revised: all
-- from the key's current history row (first_recorded_at is computed in the history's window).
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_changed_kpis() }}") }}
-- Incremental by kpi_id (macros/incremental.sql): only the changed KPIs are recomputed.
with

history as (
    select * from {{ ref('int_kpi_values_historized') }}
    where {{ in_changed_kpis('kpi_id') }}
),

current_values as (
    select * from history
    where is_current
        and event_type = 'upserted'
),

final as (
    select
        entity_key,
        kpi_id,
        municipality_id,
        period,
        gender,
        value,
        status,
        value_count,
        first_recorded_at,
        recorded_at as last_revised_at,
        revision_number as revision_count,
        source_id
    from current_values
)

select * from final
