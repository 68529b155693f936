/*
    "Why did my rank change?": every scorecard row whose rank, colour or a peer mean differs
    from the previous publication's scorecard (var previous_scorecard, its Parquet file; empty
    before the first publication), with the causes found in the same window mart_revisions
    covers (from_watermark, to_watermark]:
      definition_changed  the KPI's title or ranking direction differs (a new definition)
      new_year            the KPI had no row for this year in the previous publication
      own_value_revised   the kommun's own value (gender T) was added, revised or deleted
      others_revised      other kommuner's values for the KPI and year changed (how many)
      peer_set_changed    the kommun's liknande kommuner or kommungrupp group was republished
    `cause` is the first that holds in that order (the most specific explanation); `causes`
    lists all. A change none of them explains is `unexplained`, and a dbt test says so.
*/
-- reads the window since the last publication: rebuilt every build (pipelines.warehouse.selection)
{{ config(tags=['since_last_publication']) }}
with

scorecard as (
    select * from {{ ref('mart_kkik_scorecard') }}
),

previous as (
    select * from {{ ref('int_previous_scorecard') }}
),

previous_kpi_years as (
    select distinct kpi_id, year from previous
),

value_changes as (
    select distinct revisions.kpi_id, revisions.municipality_id, revisions.period as year
    from {{ ref('mart_revisions') }} as revisions
    inner join {{ ref('int_municipalities_current') }} as municipalities
        on revisions.municipality_id = municipalities.municipality_id
    where revisions.change_type in ('value_added', 'value_revised', 'value_deleted')
        and revisions.gender = 'T'
        and municipalities.type = 'K'
),

value_changes_per_kpi_year as (
    select kpi_id, year, count(*) as changed_kommuner
    from value_changes
    group by kpi_id, year
),

bounds as (
    select
        {{ from_watermark_timestamp() }} as from_at,
        {{ to_watermark_timestamp() }} as to_at
),

republished_groups as (
    select distinct groups.municipality_group_id
    from {{ ref('int_municipality_groups_historized') }} as groups
    cross join bounds
    where groups.valid_from > bounds.from_at
        and groups.valid_from <= bounds.to_at
),

own_peer_sets as (
    select distinct municipality_id, year, peer_set_id
    from {{ ref('int_peer_set_members') }}
    where peer_set_type in ('kommungrupp', 'liknande_kommuner')
),

peer_set_changes as (
    select distinct own_peer_sets.municipality_id, own_peer_sets.year
    from own_peer_sets
    inner join republished_groups
        on own_peer_sets.peer_set_id = republished_groups.municipality_group_id
),

compared as (
    select
        scorecard.municipality_id,
        scorecard.municipality_name,
        scorecard.kpi_id,
        scorecard.kpi_title,
        scorecard.kkik_area,
        scorecard.year,
        previous.value as old_value,
        scorecard.value as new_value,
        previous.rank as old_rank,
        scorecard.rank as new_rank,
        previous.colour as old_colour,
        scorecard.colour as new_colour,
        previous.kommungrupp_mean as old_kommungrupp_mean,
        scorecard.kommungrupp_mean as new_kommungrupp_mean,
        previous.liknande_mean as old_liknande_mean,
        scorecard.liknande_mean as new_liknande_mean,
        previous.county_mean as old_county_mean,
        scorecard.county_mean as new_county_mean,
        previous.rank is distinct from scorecard.rank as rank_changed,
        previous.colour is distinct from scorecard.colour as colour_changed,
        {{ means_differ('previous.kommungrupp_mean', 'scorecard.kommungrupp_mean') }}
            or {{ means_differ('previous.liknande_mean', 'scorecard.liknande_mean') }}
            or {{ means_differ('previous.county_mean', 'scorecard.county_mean') }} as peer_mean_changed,
        previous_kpi_years.kpi_id is null as new_year,
        previous.kpi_id is not null and (
            previous.kpi_title is distinct from scorecard.kpi_title
            or previous.direction is distinct from scorecard.direction
        ) as definition_changed,
        own_change.kpi_id is not null as own_value_revised,
        cast(
            coalesce(per_kpi_year.changed_kommuner, 0)
            - case when own_change.kpi_id is not null then 1 else 0 end
        as integer) as others_revised_count,
        peer_set_changes.municipality_id is not null as peer_set_changed
    from scorecard
    left join previous
        on scorecard.municipality_id = previous.municipality_id
        and scorecard.kpi_id = previous.kpi_id
        and scorecard.year = previous.year
    left join previous_kpi_years
        on scorecard.kpi_id = previous_kpi_years.kpi_id
        and scorecard.year = previous_kpi_years.year
    left join value_changes as own_change
        on scorecard.kpi_id = own_change.kpi_id
        and scorecard.municipality_id = own_change.municipality_id
        and scorecard.year = own_change.year
    left join value_changes_per_kpi_year as per_kpi_year
        on scorecard.kpi_id = per_kpi_year.kpi_id
        and scorecard.year = per_kpi_year.year
    left join peer_set_changes
        on scorecard.municipality_id = peer_set_changes.municipality_id
        and scorecard.year = peer_set_changes.year
    -- Only once there is a previous publication to compare with.
    where exists (select 1 from previous)
),

changed as (
    select *
    from compared
    where rank_changed or colour_changed or peer_mean_changed
),

final as (
    select
        municipality_id,
        municipality_name,
        kpi_id,
        kpi_title,
        kkik_area,
        cast(year as integer) as year,
        case
            when definition_changed then 'definition_changed'
            when new_year then 'new_year'
            when own_value_revised then 'own_value_revised'
            when others_revised_count > 0 then 'others_revised'
            when peer_set_changed then 'peer_set_changed'
            else 'unexplained'
        end as cause,
        nullif(concat_ws(',',
            case when definition_changed then 'definition_changed' end,
            case when new_year then 'new_year' end,
            case when own_value_revised then 'own_value_revised' end,
            case when others_revised_count > 0 then 'others_revised' end,
            case when peer_set_changed then 'peer_set_changed' end
        ), '') as causes,
        others_revised_count,
        rank_changed,
        colour_changed,
        peer_mean_changed,
        old_value,
        new_value,
        old_rank,
        new_rank,
        old_colour,
        new_colour,
        old_kommungrupp_mean,
        new_kommungrupp_mean,
        old_liknande_mean,
        new_liknande_mean,
        old_county_mean,
        new_county_mean
    from changed
)

select * from final
