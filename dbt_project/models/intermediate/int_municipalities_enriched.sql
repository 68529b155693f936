-- Municipalities, regions and Riket with county (län) and SKR kommungrupp.
with

municipalities as (
    select * from {{ ref('int_municipalities_current') }}
),

counties as (
    select * from {{ ref('counties') }}
),

kommungrupper as (
    select * from {{ ref('skr_kommungrupper') }}
),

groups as (
    select * from {{ ref('int_municipality_groups_current') }}
),

kommungrupp_members as (
    select
        groups.municipality_group_id as kommungrupp_id,
        {{ json_text('member', 'member_id') }} as municipality_id
    from groups,
        {{ json_elements('groups.members') }} as elements (member)
    where groups.municipality_group_id in (select kommungrupp_id from kommungrupper)
),

with_county as (
    select
        municipality_id,
        name as municipality_name,
        type as municipality_type,
        municipality_id = '0000' as is_riket,
        case
            when municipality_id = '0000' then null
            when type = 'L' then municipality_id
            else '00' || substring(municipality_id, 1, 2)
        end as county_id
    from municipalities
),

final as (
    select
        with_county.municipality_id,
        with_county.municipality_name,
        with_county.municipality_type,
        with_county.is_riket,
        with_county.county_id,
        counties.county_name,
        kommungrupper.kommungrupp_id,
        kommungrupper.kommungrupp_code,
        kommungrupper.kommungrupp_name,
        kommungrupper.kommungrupp_edition
    from with_county
    left join counties
        on with_county.county_id = counties.county_id
    left join kommungrupp_members
        on with_county.municipality_id = kommungrupp_members.municipality_id
        and with_county.municipality_type = 'K'
    left join kommungrupper
        on kommungrupp_members.kommungrupp_id = kommungrupper.kommungrupp_id
)

select * from final
