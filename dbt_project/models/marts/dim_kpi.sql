with

kpis as (
    select * from {{ ref('int_kpis_curated') }}
),

kpi_decimals as (
    select * from {{ ref('int_kpi_decimals') }}
),

final as (
    select
        kpi_id,
        title,
        description,
        unit,
        operating_area,
        perspective,
        is_divided_by_gender,
        publication_date,
        publ_period,
        is_kkik,
        kkik_area,
        kkik_area_source,
        cast(kkik_first_year as integer) as kkik_first_year,
        cast(kkik_last_year as integer) as kkik_last_year,
        direction,
        change_direction,
        direction_source,
        cast(series_start_year as integer) as series_start_year,
        kpi_decimals.decimals
    from kpis
    left join kpi_decimals using (kpi_id)
)

select * from final
