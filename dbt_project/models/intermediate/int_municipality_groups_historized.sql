/*
    Every version of a municipality group up to as_of, one row per member, with its validity
    interval: Kolada reuses a group id for each year's edition of Liknande kommuner, so the
    editions are only visible in the history. Revisions are numbered over all events of the
    group (tombstones included) before the tombstones are dropped.
*/
with

events as (
    select * from {{ ref('stg_kolada__municipality_group_events') }}
),

sequenced as (
    select
        municipality_group_id,
        event_type,
        title,
        members,
        {{ event_revision_number() }} as revision_number,
        recorded_at as valid_from,
        {{ event_superseded_at() }} as valid_to,
    from events
),

versions as (
    select
        *,
        valid_to is null as is_current,
    from sequenced
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
        {{ json_elements('versions.members') }} as elements (member)
),

final as (
    select * from members
)

select * from final
