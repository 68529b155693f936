-- The number of decimals Kolada publishes for each KPI: the most decimals any of its current
-- values has (a value is stored as a double, so "has d decimals" means it equals itself
-- rounded to d places, within float noise), capped at var('kpi_decimals_max', 4). The
-- publisher rounds and formats the KPI's values to it (Excel CSV and xlsx).
{%- set max_decimals = var('kpi_decimals_max', 4) %}
with

kpi_values as (
    select
        kpi_id,
        value
    from {{ ref('int_kpi_values_current') }}
    where value is not null and isfinite(value)
),

value_decimals as (
    select
        kpi_id,
        case
            {%- for d in range(max_decimals) %}
            when abs(value - round(value, {{ d }})) <= 1e-9 * greatest(1, abs(value)) then {{ d }}
            {%- endfor %}
            else {{ max_decimals }}
        end as decimals
    from kpi_values
),

final as (
    select
        kpi_id,
        cast(max(decimals) as integer) as decimals
    from value_decimals
    group by kpi_id
)

select * from final
