/*
    Kommunkompassen area scores as known at var('as_of'): each key's latest event (recorded_at
    desc, batch_id desc), tombstones removed, with the canonical label of (version, area) from
    the seed kommunkompassen_areas next to the label as typed.
*/
with

events as (
    select * from {{ ref('stg_assessment__kommunkompassen_events') }}
),

areas as (
    select * from {{ ref('kommunkompassen_areas') }}
),

ranked as (
    select
        *,
        {{ event_recency() }} as recency,
    from events
),

current_scores as (
    select * from ranked
    where recency = 1
        and event_type = 'upserted'
),

final as (
    select
        current_scores.municipality_id,
        current_scores.assessment_year,
        current_scores.version,
        current_scores.area_number,
        areas.area_label as area_label_canonical,
        coalesce(current_scores.area_label, areas.area_label) as area_label_published,
        current_scores.score,
        current_scores.benchmark,
        current_scores.total_stated,
        current_scores.strengths,
        current_scores.improvement_areas,
        current_scores.entity_key,
        current_scores.recorded_at,
        current_scores.source_file
    from current_scores
    left join areas
        on current_scores.version = areas.version
        and current_scores.area_number = areas.area_number
)

select * from final
