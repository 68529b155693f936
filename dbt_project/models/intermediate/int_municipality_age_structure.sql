/*
    The age structure of each unit per year (docs/indicators.md): total population and the
    shares (%) aged 0-19, 65+ and 80+, from SCB's bands. A year counts only when all six bands
    are known: a share of a partial total would be wrong without saying so.
*/
with

bands as (
    select * from {{ ref('int_population_age_current') }}
),

per_year as (
    select
        municipality_id,
        year,
        count(*) as bands_known,
        sum(population) as population_total,
        sum(case when age_band in ('0-5', '6-15', '16-19') then population else 0 end)
            as population_0_19,
        sum(case when age_band in ('65-79', '80+') then population else 0 end)
            as population_65_plus,
        sum(case when age_band = '80+' then population else 0 end) as population_80_plus
    from bands
    group by municipality_id, year
),

final as (
    select
        municipality_id,
        year,
        cast(population_total as bigint) as population_total,
        cast(population_0_19 as bigint) as population_0_19,
        cast(population_65_plus as bigint) as population_65_plus,
        cast(population_80_plus as bigint) as population_80_plus,
        100.0 * population_0_19 / population_total as share_0_19,
        100.0 * population_65_plus / population_total as share_65_plus,
        100.0 * population_80_plus / population_total as share_80_plus,
        row_number() over (partition by municipality_id order by year desc) = 1 as is_latest_year
    from per_year
    where bands_known = 6
        and population_total > 0
)

select * from final
