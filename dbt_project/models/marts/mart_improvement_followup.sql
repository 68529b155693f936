/*
    Did the change work? Per registered initiative and KPI: the kommun's mean value in the
    years before the start and from the start on, the same for its peer set (kommungrupp by
    default; the kommun itself left out), and the difference of the two changes, read the way
    the KPI's change direction says is better. "We improved, but so did everyone" shows as
    own_improved with outcome like_peers. Definitions: docs/indicators.md.
    A window that crosses the KPI's series break (its years hold values of two definitions) is
    not judged: crosses_series_break says so and the outcome is across_series_break.
*/
{%- set window = var('followup_window_years', 3) | int %}
with

initiatives as (
    select * from {{ ref('int_initiative_kpis_current') }}
),

municipalities as (
    select * from {{ ref('dim_municipality') }}
),

kpis as (
    select * from {{ ref('dim_kpi') }}
),

annual as (
    select * from {{ ref('int_kpi_values_annual') }}
    where value is not null
),

members as (
    select * from {{ ref('int_peer_set_members') }}
),

-- The kommun's own values in the window: before = the {{ window }} years before the start,
-- after = the start year and the {{ window - 1 }} after it.
own as (
    select
        initiatives.municipality_id,
        initiatives.initiative_id,
        initiatives.kpi_id,
        initiatives.peer_set_type,
        initiatives.network_id,
        annual.year,
        annual.value,
        case when annual.year < initiatives.start_year then 'before' else 'after' end as side
    from initiatives
    inner join annual
        on initiatives.municipality_id = annual.municipality_id
        and initiatives.kpi_id = annual.kpi_id
        and annual.year between initiatives.start_year - {{ window }}
            and initiatives.start_year + {{ window - 1 }}
),

-- The peer set's unweighted mean in each of those years, the kommun itself left out. Means
-- are summed exactly (exact_mean) so that a rebuild gives the same bits.
peer_years as (
    select
        own.municipality_id,
        own.initiative_id,
        own.kpi_id,
        own.year,
        own.side,
        max(members.peer_set_name) as peer_set_name,
        {{ exact_mean('peer_values.value') }} as peer_value
    from own
    inner join members
        on own.municipality_id = members.municipality_id
        and own.year = members.year
        and own.peer_set_type = members.peer_set_type
        and (own.network_id is null or members.peer_set_id = own.network_id)
        and members.member_id != own.municipality_id
    inner join annual as peer_values
        on members.member_id = peer_values.municipality_id
        and own.kpi_id = peer_values.kpi_id
        and own.year = peer_values.year
    where own.peer_set_type != 'riket'
    group by own.municipality_id, own.initiative_id, own.kpi_id, own.year, own.side

    union all

    select
        own.municipality_id,
        own.initiative_id,
        own.kpi_id,
        own.year,
        own.side,
        'Riket' as peer_set_name,
        riket.value as peer_value
    from own
    inner join annual as riket
        on riket.municipality_id = '0000'
        and own.kpi_id = riket.kpi_id
        and own.year = riket.year
    where own.peer_set_type = 'riket'
),

own_sides as (
    select
        municipality_id,
        initiative_id,
        kpi_id,
        count(case when side = 'before' then 1 end) as years_before,
        count(case when side = 'after' then 1 end) as years_after,
        {{ exact_mean("case when side = 'before' then value end") }} as mean_before,
        {{ exact_mean("case when side = 'after' then value end") }} as mean_after
    from own
    group by municipality_id, initiative_id, kpi_id
),

peer_sides as (
    select
        municipality_id,
        initiative_id,
        kpi_id,
        max(peer_set_name) as peer_set_name,
        count(case when side = 'before' then 1 end) as peer_years_before,
        count(case when side = 'after' then 1 end) as peer_years_after,
        {{ exact_mean("case when side = 'before' then peer_value end") }}
            as peer_mean_before,
        {{ exact_mean("case when side = 'after' then peer_value end") }}
            as peer_mean_after
    from peer_years
    group by municipality_id, initiative_id, kpi_id
),

joined as (
    select
        initiatives.municipality_id,
        municipalities.municipality_name,
        initiatives.initiative_id,
        initiatives.title,
        initiatives.kpi_id,
        kpis.title as kpi_title,
        kpis.change_direction,
        kpis.series_start_year,
        initiatives.start_year,
        initiatives.peer_set_type,
        initiatives.network_id,
        peer_sides.peer_set_name,
        coalesce(own_sides.years_before, 0) as years_before,
        coalesce(own_sides.years_after, 0) as years_after,
        own_sides.mean_before,
        own_sides.mean_after,
        own_sides.mean_after - own_sides.mean_before as own_change,
        coalesce(peer_sides.peer_years_before, 0) as peer_years_before,
        coalesce(peer_sides.peer_years_after, 0) as peer_years_after,
        peer_sides.peer_mean_before,
        peer_sides.peer_mean_after,
        peer_sides.peer_mean_after - peer_sides.peer_mean_before as peer_change,
        case kpis.change_direction
            when 'higher_better' then 1
            when 'lower_better' then -1
        end as better_sign,
        initiatives.source_file
    from initiatives
    left join municipalities
        on initiatives.municipality_id = municipalities.municipality_id
    left join kpis
        on initiatives.kpi_id = kpis.kpi_id
    left join own_sides
        on initiatives.municipality_id = own_sides.municipality_id
        and initiatives.initiative_id = own_sides.initiative_id
        and initiatives.kpi_id = own_sides.kpi_id
    left join peer_sides
        on initiatives.municipality_id = peer_sides.municipality_id
        and initiatives.initiative_id = peer_sides.initiative_id
        and initiatives.kpi_id = peer_sides.kpi_id
),

effects as (
    select
        *,
        round(own_change - peer_change, 6) as change_vs_peers,
        round(better_sign * (own_change - peer_change), 6) as relative_effect
    from joined
),

final as (
    select
        municipality_id,
        municipality_name,
        initiative_id,
        title,
        kpi_id,
        kpi_title,
        change_direction,
        cast(start_year as integer) as start_year,
        cast(series_start_year as integer) as series_start_year,
        -- the break starts a new definition after the window's first year and by its last:
        -- the means on the two sides would then compare two different measures
        coalesce(
            series_start_year > start_year - {{ window }}
            and series_start_year <= start_year + {{ window - 1 }},
            false
        ) as crosses_series_break,
        peer_set_type,
        network_id,
        peer_set_name,
        cast({{ window }} as integer) as window_years,
        cast(years_before as integer) as years_before,
        cast(years_after as integer) as years_after,
        cast(mean_before as double) as mean_before,
        cast(mean_after as double) as mean_after,
        cast(round(own_change, 6) as double) as own_change,
        cast(peer_years_before as integer) as peer_years_before,
        cast(peer_years_after as integer) as peer_years_after,
        cast(peer_mean_before as double) as peer_mean_before,
        cast(peer_mean_after as double) as peer_mean_after,
        cast(round(peer_change, 6) as double) as peer_change,
        cast(change_vs_peers as double) as change_vs_peers,
        cast(relative_effect as double) as relative_effect,
        better_sign * own_change > 0 as own_improved,
        better_sign * peer_change > 0 as peers_improved,
        case
            when years_before = 0 and years_after = 0 then 'no_values'
            when years_after = 0 then 'too_early'
            when years_before = 0 then 'no_baseline'
            when series_start_year > start_year - {{ window }}
                and series_start_year <= start_year + {{ window - 1 }} then 'across_series_break'
            when better_sign is null then 'not_judged'
            when relative_effect is null then 'no_peer_values'
            -- within 0.5 % of the baseline: the same rule that calls a trend flat
            when abs(relative_effect) <= 0.005 * abs(mean_before) then 'like_peers'
            when relative_effect > 0 then 'better_than_peers'
            else 'worse_than_peers'
        end as outcome,
        source_file
    from effects
)

select * from final
