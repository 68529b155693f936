/*
    Each Sveriges KvalitetsKommun winner and nominee (seed kvalitetskommun_history) next to its
    quality profile as the screening would have seen it at award time: the profile of the
    latest complete year before the award year (the jury judges the results published by then). Years
    outside the ingest scope have no profile row and say so. A check of the screening against
    decisions that can be checked, not a claim to reproduce the jury.
*/
with

history as (
    select * from {{ ref('kvalitetskommun_history') }}
),

profile as (
    select * from {{ ref('mart_quality_profile') }}
),

-- Only complete profile years (mart_quality_profile.is_complete_year): a year published for a
-- few measures only would screen everyone on those.
profile_years as (
    select distinct year from profile
    where is_complete_year
),

matched_year as (
    select
        history.award_year,
        history.municipality_id,
        max(profile_years.year) as profile_year
    from history
    left join profile_years
        on profile_years.year < history.award_year
    group by history.award_year, history.municipality_id
),

final as (
    select
        cast(history.award_year as integer) as award_year,
        history.municipality_id,
        history.municipality_name,
        history.role,
        history.note,
        cast(profile.year as integer) as profile_year,
        profile.profile_rank,
        profile.profile_ranked_count,
        profile.composite_score,
        profile.profile_rank <= 10 as in_top_10,
        profile.profile_rank <= ceil(profile.profile_ranked_count / 10.0) as in_top_decile,
        profile.results_score,
        profile.share_green,
        profile.results_rank,
        profile.economy_score,
        profile.economy_rank,
        profile.employer_score,
        profile.employer_rank,
        profile.development_score,
        profile.development_rank,
        profile.kommunkompassen_total,
        profile.kommunkompassen_year,
        case
            when matched_year.profile_year is null
                then 'no profile year before the award within the ingest scope'
            when profile.municipality_id is null then 'the kommun has no profile row that year'
            when profile.composite_score is null
                then 'the kommun has no composite score that year (no results within the ingest scope)'
        end as profile_note
    from history
    inner join matched_year
        on history.award_year = matched_year.award_year
        and history.municipality_id = matched_year.municipality_id
    left join profile
        on history.municipality_id = profile.municipality_id
        and matched_year.profile_year = profile.year
)

select * from final
