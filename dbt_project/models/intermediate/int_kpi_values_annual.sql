-- Current values for gender T (the total), one row per KPI × unit × year, with the unit's type.
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_changed_kpis() }}") }}
-- Incremental by kpi_id (macros/incremental.sql): only the changed KPIs are recomputed.
with

values_current as (
    select * from {{ ref('int_kpi_values_current') }}
    where gender = 'T'
        and {{ in_changed_kpis('kpi_id') }}
),

municipalities as (
    select * from {{ ref('int_municipalities_current') }}
),

final as (
    select
        values_current.kpi_id,
        values_current.municipality_id,
        municipalities.type as municipality_type,
        values_current.period as year,
        values_current.value
    from values_current
    inner join municipalities
        on values_current.municipality_id = municipalities.municipality_id
)

select * from final
