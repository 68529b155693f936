{#
    Fails for rows where `column_name` differs from the sum of `columns` (colour counts add up
    to the number of KPIs); a null count is read as 0 on either side.
#}
{% test equals_sum_of(model, column_name, columns) %}

select *
from {{ model }}
where coalesce({{ column_name }}, 0) != (
    {%- for c in columns %} coalesce({{ c }}, 0){{ ' +' if not loop.last }}{% endfor %}
)

{% endtest %}
