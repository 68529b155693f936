/*
    Trends within each unit's own series (docs/indicators.md, "Units"): one row per
    organisational unit × KPI (gender T) with at least one value. The KKiK trend formulas at
    unit level: OLS slope over the last 5 years up to the unit's last year with a value (at
    least 3 values), improving/worsening/flat by the KPI's change direction (flat within 0.5 %
    of the window's mean a year), and steady improvement over its last 3 steps.
*/
with

unit_values as (
    select * from {{ ref('int_ou_values_current') }}
    where value is not null
),

units as (
    select * from {{ ref('int_ous_latest') }}
),

kpis as (
    select * from {{ ref('int_kpis_curated') }}
),

span as (
    select
        ou_id,
        kpi_id,
        min(year) as first_year,
        max(year) as last_year,
        count(*) as n_values
    from unit_values
    group by ou_id, kpi_id
),

window_fit as (
    select
        span.ou_id,
        span.kpi_id,
        count(unit_values.value) as window_values,
        {{ slope('unit_values.value', 'unit_values.year - span.last_year') }} as window_slope,
        {{ exact_mean('unit_values.value') }} as window_mean
    from span
    inner join unit_values
        on span.ou_id = unit_values.ou_id
        and span.kpi_id = unit_values.kpi_id
        and unit_values.year between span.last_year - 4 and span.last_year
    group by span.ou_id, span.kpi_id
),

steps as (
    select
        unit_values.ou_id,
        unit_values.kpi_id,
        unit_values.year,
        unit_values.value,
        row_number() over (partition by unit_values.ou_id, unit_values.kpi_id
                           order by unit_values.year desc) as years_back,
        {{ kkik_change('unit_values.value',
                       'lag(unit_values.value) over (partition by unit_values.ou_id, unit_values.kpi_id order by unit_values.year)',
                       'kpis.change_direction') }} as step_change
    from unit_values
    left join kpis
        on unit_values.kpi_id = kpis.kpi_id
),

step_summary as (
    select
        ou_id,
        kpi_id,
        max(case when years_back = 1 then value end) as latest_value,
        sum(case when years_back <= 3 and step_change = 'Upp' then 1 else 0 end) as improved_steps
    from steps
    group by ou_id, kpi_id
),

final as (
    select
        span.ou_id,
        units.ou_name,
        units.municipality_id,
        units.unit_kind,
        units.is_open,
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
        step_summary.latest_value,
        case when kpis.change_direction in ('higher_better', 'lower_better') then
            step_summary.improved_steps = 3
        end as steady_improvement
    from span
    inner join units
        on span.ou_id = units.ou_id
    left join kpis
        on span.kpi_id = kpis.kpi_id
    left join window_fit
        on span.ou_id = window_fit.ou_id
        and span.kpi_id = window_fit.kpi_id
    left join step_summary
        on span.ou_id = step_summary.ou_id
        and span.kpi_id = step_summary.kpi_id
)

select * from final
