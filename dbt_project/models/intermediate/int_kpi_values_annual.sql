-- Current values for gender T (the total), one row per KPI × unit × year, with the unit's type.
with

values_current as (
    select * from {{ ref('int_kpi_values_current') }}
    where gender = 'T'
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
