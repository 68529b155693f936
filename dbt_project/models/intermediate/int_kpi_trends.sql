/*
    Trend formulas per kommun × KPI, gender T (docs/indicators.md): OLS slope over the last 5
    years up to the kommun's last year with a value (at least 3 values), consecutive published
    years better than Riket up to that year, and steady improvement over the last 3 steps.
    Improving/worsening and steady improvement follow change_direction (a falling cost
    improves); "better than Riket" is a judgement against others and only made for ranked KPIs.
    Everything is computed within the KPI's current series (from series_start_year on).
*/
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_changed_kpis() }}") }}
-- Incremental by kpi_id (macros/incremental.sql): only the changed KPIs are recomputed.
with

annual as (
    select * from {{ ref('int_kpi_values_annual') }}
    where value is not null
        and {{ in_changed_kpis('kpi_id') }}
),

kpis as (
    select * from {{ ref('int_kpis_curated') }}
),

-- Only the KPI's current series: years before a series break were measured differently.
in_series as (
    select annual.*
    from annual
    inner join kpis
        on annual.kpi_id = kpis.kpi_id
    where kpis.series_start_year is null or annual.year >= kpis.series_start_year
),

kommun_values as (
    select * from in_series
    where municipality_type = 'K'
),

riket as (
    select * from in_series
    where municipality_id = '0000'
),

span as (
    select
        municipality_id,
        kpi_id,
        min(year) as first_year,
        max(year) as last_year,
        count(*) as n_values
    from kommun_values
    group by municipality_id, kpi_id
),

-- The KPI's published years: every year in which some kommun has a value.
kpi_years as (
    select distinct kpi_id, year from kommun_values
),

window_fit as (
    select
        span.municipality_id,
        span.kpi_id,
        count(kommun_values.value) as window_values,
        {{ slope('kommun_values.value', 'kommun_values.year - span.last_year') }} as window_slope,
        {{ exact_mean('kommun_values.value') }} as window_mean
    from span
    inner join kommun_values
        on span.municipality_id = kommun_values.municipality_id
        and span.kpi_id = kommun_values.kpi_id
        and kommun_values.year between span.last_year - 4 and span.last_year
    group by span.municipality_id, span.kpi_id
),

history as (
    select
        span.municipality_id,
        span.kpi_id,
        kpis.direction,
        kpis.change_direction,
        kpis.unit,
        kpi_years.year,
        kommun_values.value,
        riket.value as riket_value,
        row_number() over (
            partition by span.municipality_id, span.kpi_id order by kpi_years.year desc
        ) as years_back
    from span
    inner join kpis
        on span.kpi_id = kpis.kpi_id
    inner join kpi_years
        on span.kpi_id = kpi_years.kpi_id
        and kpi_years.year <= span.last_year
    left join kommun_values
        on span.municipality_id = kommun_values.municipality_id
        and span.kpi_id = kommun_values.kpi_id
        and kpi_years.year = kommun_values.year
    left join riket
        on span.kpi_id = riket.kpi_id
        and kpi_years.year = riket.year
),

history_flags as (
    select
        *,
        coalesce({{ is_better('value', 'riket_value', 'direction') }}, false) as better_than_riket,
        {{ kkik_change('value', 'lead(value) over (partition by municipality_id, kpi_id order by years_back)', 'change_direction', change_decimals('unit')) }} as step_change
    from history
),

history_summary as (
    select
        municipality_id,
        kpi_id,
        min(case when not better_than_riket then years_back end) as first_not_better,
        count(*) as history_years,
        max(case when years_back = 1 then riket_value end) as riket_latest_value,
        max(case when years_back = 1 then value end) as latest_value,
        sum(case when years_back <= 3 and step_change = 'Upp' then 1 else 0 end) as improved_steps
    from history_flags
    group by municipality_id, kpi_id
),

final as (
    select
        span.municipality_id,
        span.kpi_id,
        kpis.direction,
        kpis.change_direction,
        cast(span.first_year as integer) as first_year,
        cast(span.last_year as integer) as last_year,
        cast(span.n_values as integer) as n_values,
        cast(case when window_fit.window_values >= 3 then window_fit.window_slope end as double) as slope,
        case
            when kpis.change_direction not in ('higher_better', 'lower_better') or kpis.change_direction is null then null
            when window_fit.window_values < 3 or window_fit.window_slope is null then null
            when abs(window_fit.window_slope) <= 0.005 * abs(window_fit.window_mean) then 'flat'
            when {{ is_better('window_fit.window_slope', '0', 'kpis.change_direction') }} then 'improving'
            else 'worsening'
        end as trend,
        history_summary.latest_value,
        history_summary.riket_latest_value,
        case when kpis.direction in ('higher_better', 'lower_better') then
            cast(coalesce(history_summary.first_not_better - 1, history_summary.history_years) as integer)
        end as years_better_than_riket,
        case when kpis.change_direction in ('higher_better', 'lower_better') then
            history_summary.improved_steps = 3
        end as steady_improvement
    from span
    inner join kpis
        on span.kpi_id = kpis.kpi_id
    left join window_fit
        on span.municipality_id = window_fit.municipality_id
        and span.kpi_id = window_fit.kpi_id
    left join history_summary
        on span.municipality_id = history_summary.municipality_id
        and span.kpi_id = history_summary.kpi_id
)

select * from final
