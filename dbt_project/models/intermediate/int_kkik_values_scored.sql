/*
    The KKiK scorecard's formulas (docs/indicators.md): one row per kommun × KKiK KPI × year the
    KPI has values for (within its KKiK years), with rank, tie-safe percentile, colour and
    improvement-aware change. Ranking population: kommuner (type K), gender T, non-null value.
    Across a series break (Y-1 measured under the old definition) Förändring is Ingen and the
    row says so in y1_across_series_break.
    Editions: the seed kkik_editions says, per KPI and year range, whether the KPI is in the
    KKiK set, whether it is compared (ranked and coloured), its direction, the direction of
    Förändring and its area. A value is read with the edition row that covers its year; a KPI
    the seed does not cover falls back to kpi_curation (via int_kpis_curated).
*/
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_changed_kpis() }}") }}
-- Incremental by kpi_id (macros/incremental.sql): only the changed KPIs are recomputed.
with

municipalities as (
    select * from {{ ref('int_municipalities_current') }}
),

kpis as (
    select * from {{ ref('int_kpis_curated') }}
    where is_kkik
),

editions as (
    select * from {{ ref('kkik_editions') }}
),

annual as (
    select * from {{ ref('int_kpi_values_annual') }}
    where {{ in_changed_kpis('kpi_id') }}
),

kommun_values as (
    select * from annual
    where municipality_type = 'K'
),

value_years as (
    select distinct
        kommun_values.kpi_id,
        kommun_values.year
    from kommun_values
    inner join kpis
        on kommun_values.kpi_id = kpis.kpi_id
    where kommun_values.value is not null
        and (kpis.kkik_first_year is null or kommun_values.year >= kpis.kkik_first_year)
        and (kpis.kkik_last_year is null or kommun_values.year <= kpis.kkik_last_year)
),

-- The curation of each KPI and year: the edition row covering the year, else kpi_curation's.
-- `direction` here is the ranking direction for that year: not_ranked when not compared.
kpi_years as (
    select
        value_years.kpi_id,
        value_years.year,
        coalesce(editions.in_kkik, true) as in_kkik,
        coalesce(
            editions.compared,
            kpis.direction in ('higher_better', 'lower_better'),
            false
        ) as is_compared,
        case
            when coalesce(editions.compared, kpis.direction in ('higher_better', 'lower_better'), false)
                then coalesce(editions.direction, kpis.direction)
            else 'not_ranked'
        end as direction,
        coalesce(editions.change_direction, kpis.change_direction) as change_direction,
        coalesce(editions.kkik_area, kpis.kkik_area) as kkik_area,
        editions.source as edition_source
    from value_years
    inner join kpis
        on value_years.kpi_id = kpis.kpi_id
    left join editions
        on value_years.kpi_id = editions.kpi_id
        and value_years.year >= coalesce(editions.first_year, value_years.year)
        and value_years.year <= coalesce(editions.last_year, value_years.year)
),

spine as (
    select
        municipalities.municipality_id,
        kpi_years.kpi_id,
        kpi_years.year
    from municipalities
    cross join kpi_years
    where municipalities.type = 'K'
        and kpi_years.in_kkik
),

with_values as (
    select
        spine.municipality_id,
        spine.kpi_id,
        kpi_years.direction,
        kpi_years.change_direction,
        kpi_years.is_compared,
        kpi_years.kkik_area,
        kpi_years.edition_source,
        kpis.unit,
        kpis.series_start_year,
        spine.year,
        current_year.value,
        year_1.value as value_y1,
        year_2.value as value_y2,
        riket.value as riket_value
    from spine
    inner join kpis
        on spine.kpi_id = kpis.kpi_id
    inner join kpi_years
        on spine.kpi_id = kpi_years.kpi_id
        and spine.year = kpi_years.year
    left join kommun_values as current_year
        on spine.municipality_id = current_year.municipality_id
        and spine.kpi_id = current_year.kpi_id
        and spine.year = current_year.year
    left join kommun_values as year_1
        on spine.municipality_id = year_1.municipality_id
        and spine.kpi_id = year_1.kpi_id
        and spine.year - 1 = year_1.year
    left join kommun_values as year_2
        on spine.municipality_id = year_2.municipality_id
        and spine.kpi_id = year_2.kpi_id
        and spine.year - 2 = year_2.year
    left join annual as riket
        on riket.municipality_id = '0000'
        and spine.kpi_id = riket.kpi_id
        and spine.year = riket.year
),

-- "Goodness": the value oriented so that larger is better; null when not ranked or missing.
oriented as (
    select
        *,
        case
            when direction = 'higher_better' then value
            when direction = 'lower_better' then -value
        end as goodness
    from with_values
),

ranked as (
    select
        *,
        case when goodness is not null then
            count(goodness) over (partition by kpi_id, year)
        end as ranked_count,
        case when goodness is not null then
            rank() over (partition by kpi_id, year order by goodness desc nulls last)
        end as rank_best,
        case when goodness is not null then
            count(goodness) over (partition by kpi_id, year, goodness)
        end as tied_count
    from oriented
),

-- Mid-rank percent rank: tied values share the mean position of their block (0 = best, 1 = worst).
percentiles as (
    select
        *,
        {{ midrank_percentile('rank_best', 'tied_count', 'ranked_count') }} as percentile
    from ranked
),

final as (
    select
        municipality_id,
        kpi_id,
        direction,
        change_direction,
        is_compared,
        kkik_area,
        edition_source,
        series_start_year,
        year,
        value,
        value_y1,
        value_y2,
        cast(rank_best as integer) as rank,
        case when direction in ('higher_better', 'lower_better') then
            cast(coalesce(max(ranked_count) over (partition by kpi_id, year), 0) as integer)
        end as ranked_count,
        cast(percentile as double) as percentile,
        case
            when direction not in ('higher_better', 'lower_better') or direction is null then null
            when value is null then 'grey'
            when percentile < 0.25 then 'green'
            when percentile > 0.75 then 'red'
            else 'yellow'
        end as colour,
        coalesce(series_start_year = year, false) as y1_across_series_break,
        case
            when series_start_year = year then 'Ingen'
            else {{ kkik_change('value', 'value_y1', 'change_direction', change_decimals('unit')) }}
        end as change,
        riket_value
    from percentiles
)

select * from final
