{#
    Fails for non-null values of `column_name` that do not match `regex` (RE2, partial match as
    in Python's re.search, so anchor it with ^...$); with `negate`, for values that do match.
#}
{% test matches_regex(model, column_name, regex, negate=false) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and {{ 'not' if not negate }} regexp_matches(
        cast({{ column_name }} as varchar), '{{ regex | replace("'", "''") }}'
    )

{% endtest %}
