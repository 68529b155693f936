/*
    Peer sets by year: who is in each set (member_id) and whose set it is (municipality_id).
    kommungrupp, county and network sets are the same every year (the 2023 kommungrupp edition,
    the current county, the configured network): their members are each other's peers,
    themselves included. A liknande_kommuner set belongs to its owner, who is not a member; for
    a value year the latest edition of that year or earlier is used (the earliest edition for
    years before it), and peer_set_name, the edition's title, says which.
    Editions are named: a kommungrupp's peer_set_name carries its indelning ("C8
    Landsbygdskommun (indelning 2023)"), and edition_year/is_later_edition say when a value
    year is compared with a grouping made after it (domain.md: never without saying so).
*/
with

municipalities as (
    select * from {{ ref('int_municipalities_enriched') }}
    where municipality_type = 'K'
),

years as (
    select distinct year from {{ ref('int_kpi_values_annual') }}
),

liknande as (
    select * from {{ ref('int_liknande_kommuner_editions') }}
    where theme = 'övergripande'
        and owner_municipality_id is not null
),

networks as (
    {{ networks_relation() }}
),

static_sets as (
    select
        'kommungrupp' as peer_set_type,
        kommungrupp_id as peer_set_id,
        kommungrupp_code || ' ' || kommungrupp_name
            || coalesce(' (indelning ' || cast(kommungrupp_edition as varchar) || ')', '') as peer_set_name,
        cast(kommungrupp_edition as integer) as edition_year,
        municipality_id as member_id
    from municipalities
    where kommungrupp_id is not null

    union all

    select
        'county' as peer_set_type,
        municipalities.county_id as peer_set_id,
        municipalities.county_name as peer_set_name,
        cast(null as integer) as edition_year,
        municipalities.municipality_id as member_id
    from municipalities
    where county_id is not null

    union all

    select
        'network' as peer_set_type,
        networks.network_id as peer_set_id,
        networks.network_title as peer_set_name,
        cast(null as integer) as edition_year,
        networks.member_id
    from networks
    inner join municipalities
        on networks.member_id = municipalities.municipality_id
),

static_by_year as (
    select
        owners.peer_set_type,
        owners.peer_set_id,
        owners.peer_set_name,
        years.year,
        owners.edition_year,
        coalesce(owners.edition_year > years.year, false) as is_later_edition,
        owners.member_id as municipality_id,
        members.member_id
    from static_sets as owners
    inner join static_sets as members
        on owners.peer_set_type = members.peer_set_type
        and owners.peer_set_id = members.peer_set_id
    cross join years
),

editions as (
    select distinct
        municipality_group_id,
        owner_municipality_id,
        edition_year
    from liknande
),

edition_for_year as (
    select
        editions.municipality_group_id,
        editions.owner_municipality_id,
        years.year,
        coalesce(
            max(case when editions.edition_year <= years.year then editions.edition_year end),
            min(editions.edition_year)
        ) as edition_year
    from editions
    cross join years
    group by editions.municipality_group_id, editions.owner_municipality_id, years.year
),

liknande_by_year as (
    select
        'liknande_kommuner' as peer_set_type,
        liknande.municipality_group_id as peer_set_id,
        liknande.title as peer_set_name,
        edition_for_year.year,
        cast(edition_for_year.edition_year as integer) as edition_year,
        edition_for_year.edition_year > edition_for_year.year as is_later_edition,
        liknande.owner_municipality_id as municipality_id,
        liknande.member_id
    from edition_for_year
    inner join liknande
        on edition_for_year.municipality_group_id = liknande.municipality_group_id
        and edition_for_year.edition_year = liknande.edition_year
),

final as (
    select * from static_by_year
    union all
    select * from liknande_by_year
)

select * from final
