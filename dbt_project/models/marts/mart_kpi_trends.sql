{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_changed_kpis() }}") }}
-- Incremental by kpi_id (macros/incremental.sql): only the changed KPIs are recomputed.
with

trends as (
    select * from {{ ref('int_kpi_trends') }}
    where {{ in_changed_kpis('kpi_id') }}
),

final as (
    select
        municipality_id,
        kpi_id,
        direction,
        change_direction,
        first_year,
        last_year,
        n_values,
        slope,
        trend,
        latest_value,
        riket_latest_value,
        years_better_than_riket,
        steady_improvement
    from trends
)

select * from final
