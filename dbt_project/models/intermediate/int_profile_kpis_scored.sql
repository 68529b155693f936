/*
    The quality profile's economy and employer KPIs (macro quality_profile_kpis), one row per
    kommun × KPI × year the KPI has kommun values for: the value, and for the ranked ones the
    rank among all kommuner with a value, the ranking's size and the mid-rank percentile
    (0 = best), by the KPI's curated direction, exactly as the KKiK scorecard ranks.
*/
with

profile_kpis as (
    {{ quality_profile_kpis_relation() }}
),

kpis as (
    select * from {{ ref('int_kpis_curated') }}
),

kommun_values as (
    select * from {{ ref('int_kpi_values_annual') }}
    where municipality_type = 'K'
        and value is not null
),

with_direction as (
    select
        kommun_values.municipality_id,
        kommun_values.kpi_id,
        profile_kpis.dimension,
        profile_kpis.stem,
        kommun_values.year,
        kommun_values.value,
        case
            when profile_kpis.is_profile_ranked and kpis.direction = 'higher_better'
                then kommun_values.value
            when profile_kpis.is_profile_ranked and kpis.direction = 'lower_better'
                then -kommun_values.value
        end as goodness
    from kommun_values
    inner join profile_kpis
        on kommun_values.kpi_id = profile_kpis.kpi_id
    left join kpis
        on kommun_values.kpi_id = kpis.kpi_id
),

ranked as (
    select
        *,
        case when goodness is not null then
            count(goodness) over (partition by kpi_id, year)
        end as ranked_count,
        case when goodness is not null then
            rank() over (partition by kpi_id, year order by goodness desc)
        end as rank_best,
        case when goodness is not null then
            count(goodness) over (partition by kpi_id, year, goodness)
        end as tied_count
    from with_direction
),

final as (
    select
        municipality_id,
        kpi_id,
        dimension,
        stem,
        year,
        value,
        cast(rank_best as integer) as rank,
        cast(ranked_count as integer) as ranked_count,
        cast({{ midrank_percentile('rank_best', 'tied_count', 'ranked_count') }} as double)
            as percentile
    from ranked
)

select * from final
