/*
    KPI metadata as known at var('as_of'), the state dim_kpi is curated from: each KPI's latest
    event (recorded_at desc, batch_id desc), removed KPIs (tombstones) dropped.
*/
with

events as (
    select * from {{ ref('stg_kolada__kpi_events') }}
),

ranked as (
    select
        *,
        {{ event_recency() }} as recency,
    from events
),

final as (
    select
        kpi_id,
        title,
        description,
        is_divided_by_gender,
        municipality_type,
        auspice,
        operating_area,
        perspective,
        prel_publication_date,
        publication_date,
        publ_period,
        has_ou_data,
        payload_hash,
        recorded_at,
        batch_id,
        source_url
    from ranked
    where recency = 1
        and event_type = 'upserted'
)

select * from final
