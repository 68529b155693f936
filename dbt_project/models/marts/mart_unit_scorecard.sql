/*
    The unit scorecard (docs/indicators.md, "Units"): one row per organisational unit × KPI ×
    year with a published value (gender T). The unit is ranked and coloured among all units of
    the same kind nationally (V15 grundskolor with grundskolor), 25/50/25 by the mid-rank
    percentile as KKiK does for kommuner; with fewer than var('unit_min_ranked', 5) comparable
    values in that KPI, kind and year, no unit is ranked and all are grey (ranked_count 0).
    Beside it: its rank among the kommun's units of the kind, the kommun's own value and
    Riket's (the KPI's municipal values, when the KPI is in the municipal scope), and
    Förändring against the unit's previous year by the KPI's change direction.
*/
{%- set min_ranked = var('unit_min_ranked', 5) %}
with

unit_values as (
    select * from {{ ref('int_ou_values_current') }}
),

units as (
    select * from {{ ref('int_ous_latest') }}
),

kpis as (
    select * from {{ ref('int_kpis_curated') }}
),

annual as (
    select * from {{ ref('int_kpi_values_annual') }}
),

with_context as (
    select
        unit_values.ou_id,
        unit_values.kpi_id,
        unit_values.year,
        unit_values.value,
        unit_values.municipality_id,
        unit_values.unit_kind,
        kpis.direction,
        kpis.change_direction,
        previous.value as value_y1,
        case
            when kpis.direction = 'higher_better' then unit_values.value
            when kpis.direction = 'lower_better' then -unit_values.value
        end as goodness
    from unit_values
    left join kpis
        on unit_values.kpi_id = kpis.kpi_id
    left join unit_values as previous
        on unit_values.ou_id = previous.ou_id
        and unit_values.kpi_id = previous.kpi_id
        and unit_values.year - 1 = previous.year
),

pooled as (
    select
        *,
        count(goodness) over (partition by kpi_id, unit_kind, year) as comparable_count,
        count(goodness) over (partition by kpi_id, unit_kind, year, municipality_id)
            as kommun_comparable_count
    from with_context
),

ranked as (
    select
        *,
        case when goodness is not null and comparable_count >= {{ min_ranked }} then
            rank() over (partition by kpi_id, unit_kind, year order by goodness desc nulls last)
        end as rank_best,
        case when goodness is not null then
            count(goodness) over (partition by kpi_id, unit_kind, year, goodness)
        end as tied_count,
        case when goodness is not null and comparable_count >= {{ min_ranked }} then
            rank() over (partition by kpi_id, unit_kind, year, municipality_id
                         order by goodness desc nulls last)
        end as kommun_rank_best
    from pooled
),

-- How many kommuner's units make up each comparison: "nationally" is all units of the kind the
-- publication holds, which is the whole country only when the unit scope is (the sample's is
-- Värmland's units), so the report says how wide the comparison is from this, not from config.
pool_kommuner as (
    select kpi_id, unit_kind, year, count(distinct municipality_id) as pool_kommuner
    from with_context
    where goodness is not null
    group by kpi_id, unit_kind, year
),

scored as (
    select
        *,
        case when rank_best is not null then
            {{ midrank_percentile('rank_best', 'tied_count', 'comparable_count') }}
        end as percentile
    from ranked
),

final as (
    select
        scored.ou_id,
        units.ou_name,
        scored.municipality_id,
        scored.unit_kind,
        units.kind_name,
        units.kind_plural,
        units.is_open,
        scored.kpi_id,
        scored.year,
        scored.direction,
        scored.change_direction,
        scored.value,
        scored.value_y1,
        cast(scored.rank_best as integer) as rank,
        case when scored.direction in ('higher_better', 'lower_better') then
            cast(case when scored.comparable_count >= {{ min_ranked }}
                      then scored.comparable_count else 0 end as integer)
        end as ranked_count,
        cast(scored.percentile as double) as percentile,
        case
            when scored.direction not in ('higher_better', 'lower_better') or scored.direction is null then null
            when scored.rank_best is null then 'grey'
            when scored.percentile < 0.25 then 'green'
            when scored.percentile > 0.75 then 'red'
            else 'yellow'
        end as colour,
        cast(scored.kommun_rank_best as integer) as kommun_rank,
        case when scored.rank_best is not null then
            cast(scored.kommun_comparable_count as integer)
        end as kommun_ranked_count,
        kommun.value as kommun_value,
        riket.value as riket_value,
        {{ kkik_change('scored.value', 'scored.value_y1', 'scored.change_direction') }} as change,
        case when scored.rank_best is not null then
            cast(pool_kommuner.pool_kommuner as integer)
        end as ranked_kommuner
    from scored
    inner join units
        on scored.ou_id = units.ou_id
    left join pool_kommuner
        on scored.kpi_id = pool_kommuner.kpi_id
        and scored.unit_kind = pool_kommuner.unit_kind
        and scored.year = pool_kommuner.year
    left join annual as kommun
        on scored.municipality_id = kommun.municipality_id
        and scored.kpi_id = kommun.kpi_id
        and scored.year = kommun.year
    left join annual as riket
        on riket.municipality_id = '0000'
        and scored.kpi_id = riket.kpi_id
        and scored.year = riket.year
)

select * from final
