{# Fails for rows where `column_name` has a value although `condition` holds. #}
{% test null_where(model, column_name, condition) %}

select *
from {{ model }}
where ({{ condition }})
    and {{ column_name }} is not null

{% endtest %}
