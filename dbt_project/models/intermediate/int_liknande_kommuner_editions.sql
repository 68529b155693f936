/*
    "Liknande kommuner, <theme>, <kommun>, <year>" groups by edition year. Kolada reuses a group
    id and changes its members (and the year in its title) every year, so each edition is read
    from the group's history: the latest version recorded up to as_of whose title names that
    year. The owner is the municipality named in the title (matched on its Kolada name).
*/
with

versions as (
    select * from {{ ref('int_municipality_groups_historized') }}
),

municipalities as (
    select * from {{ ref('int_municipalities_current') }}
    where type = 'K'
),

parsed as (
    select
        municipality_group_id,
        title,
        revision_number,
        member_id,
        {{ regex_extract('title', '^Liknande kommuner, ([^,]+), (.+), ([0-9]{4})$', 1) }} as theme,
        {{ regex_extract('title', '^Liknande kommuner, ([^,]+), (.+), ([0-9]{4})$', 2) }} as owner_name,
        cast(nullif({{ regex_extract('title', '^Liknande kommuner, ([^,]+), (.+), ([0-9]{4})$', 3) }}, '') as integer) as edition_year
    from versions
    where title like 'Liknande kommuner, %'
),

latest_version_per_edition as (
    select
        municipality_group_id,
        edition_year,
        max(revision_number) as revision_number
    from parsed
    where edition_year is not null
    group by municipality_group_id, edition_year
),

final as (
    select
        parsed.municipality_group_id,
        parsed.title,
        parsed.theme,
        parsed.owner_name,
        municipalities.municipality_id as owner_municipality_id,
        parsed.edition_year,
        parsed.member_id
    from parsed
    inner join latest_version_per_edition
        on parsed.municipality_group_id = latest_version_per_edition.municipality_group_id
        and parsed.edition_year = latest_version_per_edition.edition_year
        and parsed.revision_number = latest_version_per_edition.revision_number
    left join municipalities
        on parsed.owner_name = municipalities.name
)

select * from final
