{#
    Fails for rows where `column_name` is less than the column `other` (years, counts or
    timestamps in order: last >= first); rows where either is null are not judged.
#}
{% test at_least_column(model, column_name, other) %}

select {{ column_name }}, {{ other }}
from {{ model }}
where {{ column_name }} is not null
    and {{ other }} is not null
    and {{ column_name }} < {{ other }}

{% endtest %}
