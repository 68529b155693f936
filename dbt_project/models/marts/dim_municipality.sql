with

municipalities as (
    select * from {{ ref('int_municipalities_enriched') }}
),

population as (
    select
        municipality_id,
        value as population,
        year as population_year,
        row_number() over (partition by municipality_id order by year desc) as recency
    from {{ ref('int_kpi_values_annual') }}
    where kpi_id = 'N01951'
        and value is not null
),

age_structure as (
    select * from {{ ref('int_municipality_age_structure') }}
    where is_latest_year
),

liknande as (
    select * from {{ ref('int_liknande_kommuner_editions') }}
    where theme = 'övergripande'
        and owner_municipality_id is not null
),

latest_liknande_edition as (
    select
        owner_municipality_id,
        max(edition_year) as edition_year
    from liknande
    group by owner_municipality_id
),

liknande_lists as (
    select
        liknande.owner_municipality_id,
        liknande.edition_year,
        {{ string_list('liknande.member_id', 'liknande.member_id') }} as liknande_kommuner
    from liknande
    inner join latest_liknande_edition
        on liknande.owner_municipality_id = latest_liknande_edition.owner_municipality_id
        and liknande.edition_year = latest_liknande_edition.edition_year
    group by liknande.owner_municipality_id, liknande.edition_year
),

final as (
    select
        municipalities.municipality_id,
        municipalities.municipality_name,
        municipalities.municipality_type,
        municipalities.is_riket,
        municipalities.county_id,
        municipalities.county_name,
        municipalities.kommungrupp_id,
        municipalities.kommungrupp_code,
        municipalities.kommungrupp_name,
        cast(municipalities.kommungrupp_edition as integer) as kommungrupp_edition,
        cast(population.population as double) as population,
        cast(population.population_year as integer) as population_year,
        liknande_lists.liknande_kommuner,
        cast(liknande_lists.edition_year as integer) as liknande_kommuner_year,
        cast(age_structure.year as integer) as age_structure_year,
        cast(age_structure.share_0_19 as double) as share_0_19,
        cast(age_structure.share_65_plus as double) as share_65_plus,
        cast(age_structure.share_80_plus as double) as share_80_plus
    from municipalities
    left join population
        on municipalities.municipality_id = population.municipality_id
        and population.recency = 1
    left join liknande_lists
        on municipalities.municipality_id = liknande_lists.owner_municipality_id
    left join age_structure
        on municipalities.municipality_id = age_structure.municipality_id
)

select * from final
