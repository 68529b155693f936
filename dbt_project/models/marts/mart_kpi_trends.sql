with

trends as (
    select * from {{ ref('int_kpi_trends') }}
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
