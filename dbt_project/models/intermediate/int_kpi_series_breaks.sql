/*
    Series breaks: a KPI retitled with a new definition starts a new series (docs/indicators.md).
    A retitle is a break when the new title contains "(ny definition)" anywhere and the previous
    one did not (it stands inside the title, before the unit segment: "... 14 dagar (ny
    definition), medelvärde"; appended at the very end counts too), or when the title's unit
    (its last ", "-separated segment) changes. The new series starts at the retitle event's
    publ_period (the period Kolada was publishing when it changed the definition), or the
    event's year when Kolada gave none. One row per KPI with a break up to as_of: the latest.
*/
with

history as (
    select * from {{ ref('int_kpis_historized') }}
    where event_type != 'deleted'
),

sequenced as (
    select
        kpi_id,
        title,
        publ_period,
        recorded_at,
        lag(title) over (partition by kpi_id order by revision_number) as previous_title
    from history
),

breaks as (
    select
        kpi_id,
        previous_title,
        title,
        recorded_at,
        coalesce(
            try_cast(publ_period as integer),
            cast(extract(year from recorded_at) as integer)
        ) as series_start_year
    from sequenced
    where previous_title is not null
        and previous_title != title
        and (
            (title like '%(ny definition)%' and previous_title not like '%(ny definition)%')
            or {{ title_unit('title') }} != {{ title_unit('previous_title') }}
        )
),

final as (
    select
        kpi_id,
        cast(series_start_year as integer) as series_start_year,
        previous_title as title_before_break,
        title as title_after_break,
        recorded_at as break_recorded_at
    from breaks
    qualify row_number() over (partition by kpi_id order by recorded_at desc) = 1
)

select * from final
