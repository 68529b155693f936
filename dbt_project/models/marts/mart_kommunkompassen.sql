/*
    Kommunkompassen per municipality x assessment: the 8 area scores side by side with their
    labels (as published and canonical), the total as stated and as summed and whether they
    agree, the change per area and in total against the municipality's previous assessment
    (cross_version when the versions differ), the difference to the benchmark per area, and the
    rank of the total among all assessments of the same version (1 = highest; ties share). An
    assessment missing areas and a stated total has no total, hence no rank and no change.
*/
{% set areas = range(1, 9) %}

with

areas as (
    select * from {{ ref('mart_kommunkompassen_areas') }}
),

assessments as (
    select
        municipality_id,
        any_value(municipality_name) as municipality_name,
        assessment_year,
        version,
        cast(count(*) as integer) as areas_given,
        max(areas.total_stated) as total_stated,
        cast({{ exact_sum('areas.score') }} as double) as total_summed,
        any_value(previous_assessment_year) as previous_assessment_year,
        any_value(previous_version) as previous_version,
        bool_or(cross_version) as cross_version,
        {% for n in areas %}
        max(case when area_number = {{ n }} then score end) as area_{{ n }}_score,
        max(case when area_number = {{ n }} then area_label_published end) as area_{{ n }}_label,
        max(case when area_number = {{ n }} then area_label_canonical end) as area_{{ n }}_label_canonical,
        max(case when area_number = {{ n }} then score_change end) as area_{{ n }}_change,
        max(case when area_number = {{ n }} then score_minus_benchmark end) as area_{{ n }}_vs_benchmark,
        {% endfor %}
    from areas
    group by municipality_id, assessment_year, version
),

totals as (
    select
        *,
        -- an incomplete assessment without a stated total has no comparable total
        coalesce(total_stated, case when areas_given = 8 then total_summed end) as total,
        case
            when total_stated is not null then abs(total_stated - total_summed) < 0.5
        end as total_agrees,
    from assessments
),

with_previous as (
    select
        totals.*,
        totals.total - previous.total as total_change,
        case when totals.total is not null then rank() over (
            partition by totals.version, totals.total is null order by totals.total desc
        ) end as rank_in_version,
        count(totals.total) over (partition by totals.version) as assessments_in_version,
    from totals
    left join totals as previous
        on previous.municipality_id = totals.municipality_id
        and previous.assessment_year = totals.previous_assessment_year
        and previous.version = totals.previous_version
),

final as (
    select
        municipality_id,
        municipality_name,
        assessment_year,
        version,
        areas_given,
        {% for n in areas %}
        area_{{ n }}_score,
        area_{{ n }}_label,
        area_{{ n }}_label_canonical,
        {% endfor %}
        total_stated,
        total_summed,
        total,
        total_agrees,
        cast(rank_in_version as integer) as rank_in_version,
        cast(assessments_in_version as integer) as assessments_in_version,
        previous_assessment_year,
        previous_version,
        cross_version,
        {% for n in areas %}
        area_{{ n }}_change,
        {% endfor %}
        total_change,
        {% for n in areas %}
        area_{{ n }}_vs_benchmark{{ "," if not loop.last }}
        {% endfor %}
    from with_previous
)

select * from final
