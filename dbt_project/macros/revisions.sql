{#
    "What changed between two watermarks", shared by every kind of change mart_revisions
    lists (municipal values, KPIs, unit values, units): the state of a key at a moment is its
    event valid at that moment in a *_historized model ([valid_from, valid_to)), and the two
    states, at var('from_watermark') (exclusive; null = nothing before) and var('to_watermark')
    (inclusive; null = as_of), are joined on the key. Used inside a model that has the CTE
    `bounds` from revision_bounds().
#}

{% macro revision_bounds() -%}
    select
        {{ from_watermark_timestamp() }} as from_at,
        {{ to_watermark_timestamp() }} as to_at
{%- endmacro %}


{# `history` rows valid at bounds.<moment> (from_at or to_at). #}
{% macro state_at(history, moment) -%}
    (
        select history.*
        from {{ history }} as history
        cross join bounds
        where history.valid_from <= bounds.{{ moment }}
            and (history.valid_to is null or history.valid_to > bounds.{{ moment }})
    )
{%- endmacro %}


{# The two states of `history` side by side, as `before` and `after`, joined on `key`.

   Only the keys with an event in the window (from_at, to_at] can differ: a key's state at
   to_at is a row valid then, and a row that began at or before from_at and is still valid at
   to_at is its state at from_at too. So with a from_watermark both sides hold only those keys
   (a night's few thousand instead of every value of the log, ~5M on workload M); without one
   (nothing before) every key is compared. #}
{% macro compared_states(history, key) -%}
    {%- if is_unset(build_var('from_watermark')) -%}
    {{ state_at(history, 'from_at') }} as before
    full outer join {{ state_at(history, 'to_at') }} as after
        on before.{{ key }} = after.{{ key }}
    {%- else -%}
    (
        select * from {{ state_at(history, 'from_at') }} as state
        where state.{{ key }} in {{ keys_in_window(history, key) }}
    ) as before
    full outer join (
        select * from {{ state_at(history, 'to_at') }} as state
        where state.{{ key }} in {{ keys_in_window(history, key) }}
    ) as after
        on before.{{ key }} = after.{{ key }}
    {%- endif -%}
{%- endmacro %}


{# The keys of `history` with an event recorded inside the window (from_at, to_at]. #}
{% macro keys_in_window(history, key) -%}
    (
        select history.{{ key }}
        from {{ history }} as history
        cross join bounds
        where history.valid_from > bounds.from_at and history.valid_from <= bounds.to_at
    )
{%- endmacro %}


{# added, deleted, or `revised` when both sides are upserted and `revised_when` holds;
   null when nothing changed (the caller drops those rows). #}
{% macro change_type_between(added, deleted, revised, revised_when) -%}
    case
        when coalesce(before.event_type, 'deleted') = 'deleted' and after.event_type = 'upserted' then '{{ added }}'
        when before.event_type = 'upserted' and coalesce(after.event_type, 'deleted') = 'deleted' then '{{ deleted }}'
        when before.event_type = 'upserted' and after.event_type = 'upserted'
            and {{ revised_when }} then '{{ revised }}'
    end
{%- endmacro %}


{# A field's value on one side (`before` or `after`), null where that side is a tombstone. #}
{% macro side_value(side, column) -%}
    case when {{ side }}.event_type = 'upserted' then {{ side }}.{{ column }} end
{%- endmacro %}


{# The names of the fields whose old and new values differ, comma-separated in the order
   given, null when none: `fields` is a list of (name, old column, new column). #}
{% macro changed_fields(fields) -%}
    nullif(concat_ws(','
        {%- for name, old, new in fields %},
            case when {{ old }} is distinct from {{ new }} then '{{ name }}' end
        {%- endfor %}
    ), '')
{%- endmacro %}
