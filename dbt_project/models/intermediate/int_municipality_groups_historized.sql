-- Every version of a municipality group up to as_of, one row per member, with its validity interval.
with

source as (
    {{ historized_events('municipality_group') }}
),

versions as (
    select
        entity_key as municipality_group_id,
        event_type,
        {{ json_text('payload', 'title') }} as title,
        payload,
        cast(revision_number as integer) as revision_number,
        valid_from,
        valid_to,
        is_current
    from source
    where event_type = 'upserted'
),

members as (
    select
        versions.municipality_group_id,
        versions.title,
        versions.revision_number,
        versions.valid_from,
        versions.valid_to,
        versions.is_current,
        {{ json_text('member', 'member_id') }} as member_id
    from versions,
        {{ json_array_elements('versions.payload', 'members') }} as elements (member)
),

final as (
    select * from members
)

select * from final
