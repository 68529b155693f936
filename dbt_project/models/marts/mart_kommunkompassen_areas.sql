/*
    Kommunkompassen in long form, one row per municipality x assessment x area, for charts and
    pivot tables: the score, the label as published and the version's canonical label, the
    difference to the benchmark (Sverigesnitt) when given, and the change against the same area
    of the municipality's previous assessment, flagged cross_version when the question sets
    differ (the 2010 and 2020 versions name and weigh the areas differently).
*/
with

scores as (
    select * from {{ ref('int_kommunkompassen_current') }}
),

municipalities as (
    select * from {{ ref('dim_municipality') }}
),

assessments as (
    select distinct municipality_id, assessment_year, version
    from scores
),

sequenced as (
    select
        *,
        lag(assessment_year) over (
            partition by municipality_id order by assessment_year, version
        ) as previous_assessment_year,
        lag(version) over (
            partition by municipality_id order by assessment_year, version
        ) as previous_version,
    from assessments
),

with_previous as (
    select
        scores.*,
        sequenced.previous_assessment_year,
        sequenced.previous_version,
        previous.score as previous_score,
    from scores
    inner join sequenced
        on scores.municipality_id = sequenced.municipality_id
        and scores.assessment_year = sequenced.assessment_year
        and scores.version = sequenced.version
    left join scores as previous
        on previous.municipality_id = scores.municipality_id
        and previous.assessment_year = sequenced.previous_assessment_year
        and previous.version = sequenced.previous_version
        and previous.area_number = scores.area_number
),

final as (
    select
        with_previous.municipality_id,
        municipalities.municipality_name,
        with_previous.assessment_year,
        with_previous.version,
        with_previous.area_number,
        with_previous.area_label_canonical,
        with_previous.area_label_published,
        with_previous.score,
        with_previous.benchmark,
        with_previous.score - with_previous.benchmark as score_minus_benchmark,
        with_previous.total_stated,
        with_previous.previous_assessment_year,
        with_previous.previous_version,
        with_previous.previous_score,
        with_previous.score - with_previous.previous_score as score_change,
        coalesce(with_previous.previous_version <> with_previous.version, false) as cross_version,
        with_previous.strengths,
        with_previous.improvement_areas,
        with_previous.source_file
    from with_previous
    left join municipalities
        on with_previous.municipality_id = municipalities.municipality_id
)

select * from final
