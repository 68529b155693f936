{#
    Fails for every pair of rows of the same `key` whose year ranges [first, last] overlap (an
    empty bound is open). Two edition rows covering one year would double the KPI's rows.
#}
{% test year_ranges_do_not_overlap(model, key, first, last) %}

with

numbered as (
    select
        {{ key }} as range_key,
        coalesce({{ first }}, -1000000) as range_first,
        coalesce({{ last }}, 1000000) as range_last,
        row_number() over (order by {{ key }}, {{ first }}, {{ last }}) as row_id
    from {{ model }}
)

select
    a.range_key,
    a.range_first,
    a.range_last,
    b.range_first as other_first,
    b.range_last as other_last
from numbered as a
inner join numbered as b
    on a.range_key = b.range_key
    and a.row_id < b.row_id
    and a.range_first <= b.range_last
    and b.range_first <= a.range_last

{% endtest %}
