{#
    Fails for board rows whose liknande_mean is not the unweighted mean of the peer values of
    their members in `members` (mart_kkik_peer_members): the board's peer mean can be traced
    to its seven liknande kommuner. Both null (no member with a value) passes.
#}
{% test liknande_mean_matches_members(model, members) %}

with

board as (
    -- a CTE, not an alias on the model: the model may be a subquery with its own alias (a
    -- `where` config, or only the changed KPIs of an incremental build, macros/incremental_tests.sql)
    select * from {{ model }}
),

member_means as (
    select
        municipality_id,
        kpi_id,
        year,
        avg(peer_value) as members_mean
    from {{ members }}
    -- only the KPIs the board rows have: the same result, and an incremental build's test
    -- then reads only the changed KPIs' members too
    where kpi_id in (select kpi_id from board)
    group by municipality_id, kpi_id, year
)

select board.*
from board
left join member_means
    on board.municipality_id = member_means.municipality_id
    and board.kpi_id = member_means.kpi_id
    and board.year = member_means.year
where (board.liknande_mean is null) != (member_means.members_mean is null)
    or abs(board.liknande_mean - member_means.members_mean) > 1e-9 * greatest(1, abs(member_means.members_mean))

{% endtest %}
