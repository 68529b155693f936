/*
    The quality profile of every kommun per year: the screening Sveriges KvalitetsKommun does
    for all 290 since 2025, rebuilt from the marts (docs/indicators.md, "Quality profile").
    Results (KKiK colours), economy and employer (ranked key ratios), the latest
    Kommunkompassen, development (percentile movement over 3 years, steady improvement) and a
    composite of configurable weights. A screening, not the jury: it makes no claim to
    reproduce the award's choice.

    Every dimension score is on 0-100, higher is better, and relative: it says where a kommun
    stands among all kommuner that year.
*/
{%- set areas = [
    ('Barn och unga', 'barn_och_unga'),
    ('Stöd och omsorg', 'stod_och_omsorg'),
    ('Samhälle och miljö', 'samhalle_och_miljo'),
] -%}
{%- set profile_kpis = quality_profile_kpis() -%}
{%- set dimensions = ['economy', 'employer'] -%}
with

municipalities as (
    select * from {{ ref('dim_municipality') }}
    where municipality_type = 'K'
),

scorecard as (
    select * from {{ ref('mart_kkik_scorecard') }}
),

years as (
    select distinct year from scorecard
),

spine as (
    select
        municipalities.municipality_id,
        years.year
    from municipalities
    cross join years
),

-- Results: KKiK colour counts in total and per area, and the share green of coloured KPIs.
results as (
    select
        municipality_id,
        year,
        sum(case when colour = 'green' then 1 else 0 end) as green,
        sum(case when colour = 'yellow' then 1 else 0 end) as yellow,
        sum(case when colour = 'red' then 1 else 0 end) as red,
        sum(case when colour = 'grey' then 1 else 0 end) as grey,
        {%- for area, stem in areas %}
        {%- for colour in ['green', 'yellow', 'red'] %}
        sum(case when colour = '{{ colour }}' and kkik_area = '{{ area }}' then 1 else 0 end)
            as {{ colour }}_{{ stem }},
        {%- endfor %}
        {%- endfor %}
        sum(case when colour in ('green', 'yellow', 'red') then 1 else 0 end) as kpis_coloured
    from scorecard
    group by municipality_id, year
),

results_ranked as (
    select
        *,
        case when kpis_coloured > 0 then round(100.0 * green / kpis_coloured, 6) end as share_green
    from results
),

results_positions as (
    select
        *,
        case when share_green is not null then
            rank() over (partition by year order by share_green desc nulls last)
        end as results_rank,
        case when share_green is not null then
            count(share_green) over (partition by year)
        end as results_ranked_count,
        case when share_green is not null then
            count(share_green) over (partition by year, share_green)
        end as results_tied
    from results_ranked
),

-- Economy and employer: the profile KPIs' values and ranks, pivoted; a dimension's score is
-- 100 x (1 - the mean percentile of its ranked KPIs), when at least half of them have a value.
profile_values as (
    select * from {{ ref('int_profile_kpis_scored') }}
),

profile_pivot as (
    select
        municipality_id,
        year,
        {%- for kpi in profile_kpis %}
        max(case when kpi_id = '{{ kpi.kpi_id }}' then value end) as {{ kpi.stem }},
        {%- if kpi.ranked %}
        max(case when kpi_id = '{{ kpi.kpi_id }}' then rank end) as {{ kpi.stem }}_rank,
        {%- endif %}
        {%- endfor %}
        {%- for dimension in dimensions %}
        count(case when dimension = '{{ dimension }}' then percentile end)
            as {{ dimension }}_kpis_ranked,
        {{ exact_mean("case when dimension = '" ~ dimension ~ "' then percentile end") }}
            as {{ dimension }}_mean_percentile{{ "," if not loop.last }}
        {%- endfor %}
    from profile_values
    group by municipality_id, year
),

profile_scores as (
    select
        *,
        {%- for dimension in dimensions %}
        {%- set ranked = profile_kpis | selectattr('dimension', 'equalto', dimension) | selectattr('ranked') | list %}
        case when {{ dimension }}_kpis_ranked >= {{ ((ranked | length) + 1) // 2 }}
            then 100.0 * (1 - {{ dimension }}_mean_percentile)
        end as {{ dimension }}_score{{ "," if not loop.last }}
        {%- endfor %}
    from profile_pivot
),

-- Kommunkompassen: the latest assessment with a total up to the profile's year.
assessments as (
    select * from {{ ref('mart_kommunkompassen') }}
    where total is not null
),

latest_assessment as (
    select
        spine.municipality_id,
        spine.year,
        assessments.total as kommunkompassen_total,
        assessments.version as kommunkompassen_version,
        assessments.assessment_year as kommunkompassen_year
    from spine
    inner join assessments
        on spine.municipality_id = assessments.municipality_id
        and assessments.assessment_year <= spine.year
    qualify row_number() over (
        partition by spine.municipality_id, spine.year
        order by assessments.assessment_year desc, assessments.version desc
    ) = 1
),

-- Development: how far the kommun moved in the KKiK rankings over 3 years (percentile points,
-- positive = climbed), and on the latest year the share of its KKiK KPIs that improved steadily
-- or trend upwards (mart_kpi_trends reads the latest window only).
scored as (
    select * from {{ ref('int_kkik_values_scored') }}
    where percentile is not null
),

movement as (
    select
        now.municipality_id,
        now.year,
        count(*) as development_kpis_compared,
        -- summed exactly and rounded before ranking: a rebuild gives the same bits and ties
        round({{ exact_mean('100.0 * (earlier.percentile - now.percentile)') }}, 6)
            as development_percentile_change
    from scored as now
    inner join scored as earlier
        on now.municipality_id = earlier.municipality_id
        and now.kpi_id = earlier.kpi_id
        and earlier.year = now.year - 3
    group by now.municipality_id, now.year
),

movement_positions as (
    select
        *,
        rank() over (partition by year order by development_percentile_change desc)
            as development_rank,
        count(*) over (partition by year) as development_ranked_count,
        count(*) over (partition by year, development_percentile_change) as development_tied
    from movement
),

kkik_trends as (
    select trends.*
    from {{ ref('mart_kpi_trends') }} as trends
    inner join {{ ref('dim_kpi') }} as kpis
        on trends.kpi_id = kpis.kpi_id
        and kpis.is_kkik
),

trend_shares as (
    select
        municipality_id,
        100.0 * count(case when steady_improvement then 1 end)
            / nullif(count(steady_improvement), 0) as share_steady_improvement,
        100.0 * count(case when trend = 'improving' then 1 end)
            / nullif(count(trend), 0) as share_improving_trend
    from kkik_trends
    group by municipality_id
),

-- Complete years: a year whose compared KKiK measures with a value (any kommun) number at
-- least var('profile_min_kkik_share') of the most in any year. A year published for a handful
-- of measures (Kolada releases a new year KPI by KPI) is kept but flagged, and is never the
-- latest: one measure would make share_green 0 or 100 and rank everyone on it.
year_coverage as (
    select
        year,
        count(distinct case when is_compared and value is not null then kpi_id end)
            as kkik_kpis_published
    from scorecard
    group by year
),

coverage as (
    select
        year,
        kkik_kpis_published,
        kkik_kpis_published > 0
            and kkik_kpis_published >= {{ var('profile_min_kkik_share', 0.75) }}
                * max(kkik_kpis_published) over ()
            as is_complete_year
    from year_coverage
),

latest_year as (
    select max(year) as year from coverage where is_complete_year
),

joined as (
    select
        spine.municipality_id,
        municipalities.municipality_name,
        municipalities.kommungrupp_name,
        spine.year,
        coalesce(spine.year = latest_year.year, false) as is_latest_year,
        coverage.kkik_kpis_published,
        coalesce(coverage.is_complete_year, false) as is_complete_year,
        municipalities.share_65_plus,
        municipalities.share_80_plus,
        coalesce(results_positions.green, 0) as green,
        coalesce(results_positions.yellow, 0) as yellow,
        coalesce(results_positions.red, 0) as red,
        coalesce(results_positions.grey, 0) as grey,
        {%- for area, stem in areas %}
        {%- for colour in ['green', 'yellow', 'red'] %}
        coalesce(results_positions.{{ colour }}_{{ stem }}, 0) as {{ colour }}_{{ stem }},
        {%- endfor %}
        {%- endfor %}
        coalesce(results_positions.kpis_coloured, 0) as kpis_coloured,
        results_positions.share_green,
        results_positions.results_rank,
        round(100.0 * (1 - {{ midrank_percentile('results_positions.results_rank', 'results_positions.results_tied', 'results_positions.results_ranked_count') }}), 6)
            as results_score,
        {%- for kpi in profile_kpis %}
        profile_scores.{{ kpi.stem }},
        {%- if kpi.ranked %}
        profile_scores.{{ kpi.stem }}_rank,
        {%- endif %}
        {%- endfor %}
        {%- for dimension in dimensions %}
        coalesce(profile_scores.{{ dimension }}_kpis_ranked, 0) as {{ dimension }}_kpis_ranked,
        round(profile_scores.{{ dimension }}_score, 6) as {{ dimension }}_score,
        {%- endfor %}
        latest_assessment.kommunkompassen_total,
        latest_assessment.kommunkompassen_version,
        latest_assessment.kommunkompassen_year,
        latest_assessment.kommunkompassen_total / 8.0 as kommunkompassen_score,
        coalesce(movement_positions.development_kpis_compared, 0) as development_kpis_compared,
        movement_positions.development_percentile_change,
        case when spine.year = latest_year.year then trend_shares.share_steady_improvement end
            as share_steady_improvement,
        case when spine.year = latest_year.year then trend_shares.share_improving_trend end
            as share_improving_trend,
        movement_positions.development_rank,
        round(100.0 * (1 - {{ midrank_percentile('movement_positions.development_rank', 'movement_positions.development_tied', 'movement_positions.development_ranked_count') }}), 6)
            as development_score
    from spine
    cross join latest_year
    left join coverage
        on spine.year = coverage.year
    inner join municipalities
        on spine.municipality_id = municipalities.municipality_id
    left join results_positions
        on spine.municipality_id = results_positions.municipality_id
        and spine.year = results_positions.year
    left join profile_scores
        on spine.municipality_id = profile_scores.municipality_id
        and spine.year = profile_scores.year
    left join latest_assessment
        on spine.municipality_id = latest_assessment.municipality_id
        and spine.year = latest_assessment.year
    left join movement_positions
        on spine.municipality_id = movement_positions.municipality_id
        and spine.year = movement_positions.year
    left join trend_shares
        on spine.municipality_id = trend_shares.municipality_id
),

-- The composite: the weighted mean of the dimension scores a kommun has (weights > 0 only);
-- none without a results score, the one dimension every kommun is judged on first.
{%- set weighted = ['results', 'economy', 'employer', 'development', 'kommunkompassen'] %}
composite as (
    select
        *,
        case when results_score is not null then round(
            (
                {%- for d in weighted %}
                coalesce({{ profile_weight(d) }} * {{ d }}_score, 0){{ " +" if not loop.last }}
                {%- endfor %}
            ) / nullif(
                {%- for d in weighted %}
                case when {{ d }}_score is not null then {{ profile_weight(d) }} else 0 end{{ " +" if not loop.last }}
                {%- endfor %}
            , 0), 6)
        end as composite_score,
        (
            {%- for d in weighted %}
            case when {{ d }}_score is not null and {{ profile_weight(d) }} > 0 then 1 else 0 end{{ " +" if not loop.last }}
            {%- endfor %}
        ) as composite_dimensions
    from joined
),

final as (
    select
        municipality_id,
        municipality_name,
        kommungrupp_name,
        cast(year as integer) as year,
        is_latest_year,
        cast(coalesce(kkik_kpis_published, 0) as integer) as kkik_kpis_published,
        is_complete_year,
        cast(share_65_plus as double) as share_65_plus,
        cast(share_80_plus as double) as share_80_plus,
        cast(green as integer) as green,
        cast(yellow as integer) as yellow,
        cast(red as integer) as red,
        cast(grey as integer) as grey,
        {%- for area, stem in areas %}
        {%- for colour in ['green', 'yellow', 'red'] %}
        cast({{ colour }}_{{ stem }} as integer) as {{ colour }}_{{ stem }},
        {%- endfor %}
        {%- endfor %}
        cast(kpis_coloured as integer) as kpis_coloured,
        cast(share_green as double) as share_green,
        cast(results_rank as integer) as results_rank,
        cast(results_score as double) as results_score,
        {%- for kpi in profile_kpis %}
        cast({{ kpi.stem }} as double) as {{ kpi.stem }},
        {%- if kpi.ranked %}
        cast({{ kpi.stem }}_rank as integer) as {{ kpi.stem }}_rank,
        {%- endif %}
        {%- endfor %}
        {%- for dimension in dimensions %}
        cast({{ dimension }}_kpis_ranked as integer) as {{ dimension }}_kpis_ranked,
        cast({{ dimension }}_score as double) as {{ dimension }}_score,
        cast(case when {{ dimension }}_score is not null then
            rank() over (partition by year order by {{ dimension }}_score desc nulls last)
        end as integer) as {{ dimension }}_rank,
        {%- endfor %}
        cast(kommunkompassen_total as double) as kommunkompassen_total,
        cast(kommunkompassen_version as integer) as kommunkompassen_version,
        cast(kommunkompassen_year as integer) as kommunkompassen_year,
        cast(kommunkompassen_score as double) as kommunkompassen_score,
        cast(development_kpis_compared as integer) as development_kpis_compared,
        cast(development_percentile_change as double) as development_percentile_change,
        cast(share_steady_improvement as double) as share_steady_improvement,
        cast(share_improving_trend as double) as share_improving_trend,
        cast(development_rank as integer) as development_rank,
        cast(development_score as double) as development_score,
        cast(composite_score as double) as composite_score,
        cast(composite_dimensions as integer) as composite_dimensions,
        cast(case when composite_score is not null then
            rank() over (partition by year order by composite_score desc nulls last)
        end as integer) as profile_rank,
        cast(count(composite_score) over (partition by year) as integer) as profile_ranked_count
    from composite
)

select * from final
