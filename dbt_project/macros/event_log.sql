{#
    Event-log helpers. A build is a pure function of the events and the vars: the default
    as_of is the log's watermark (everything recorded so far), never the clock. The Python side
    passes the watermark explicitly so it can be recorded with the build.
#}

{# An ISO-8601 string (or a YAML date/datetime) as a UTC timestamptz literal; no zone = UTC. #}
{% macro timestamp_literal(value) %}
    {%- set text = (value | string) | trim -%}
    {%- set has_time = ('T' in text) or (' ' in text) -%}
    {%- set has_zone = text.endswith('Z') or text.endswith('z')
        or (has_time and modules.re.search('[+-][0-9]{2}(:?[0-9]{2})?$', text) is not none) -%}
    {%- if not has_zone -%}
        {%- set text = text ~ ('+00:00' if has_time else ' 00:00:00+00:00') -%}
    {%- endif -%}
    cast('{{ text | replace("'", "") }}' as timestamp with time zone)
{%- endmacro %}


{% macro is_unset(value) %}
    {{ return(value is none or (value | string | trim) in ('', 'None', 'null', 'none')) }}
{% endmacro %}


{#
    A value that changes with every build (as_of, from_watermark, to_watermark,
    previous_scorecard): a var when one is set (a unit test's `vars`, or `--vars` by hand),
    else the build's vars file, var('build_vars_file'), which the Python side writes before
    each dbt call (pipelines.warehouse.build_vars). Read when a model is compiled, never while parsing:
    dbt discards its whole partial parse when --vars change, and these change every build.
    The compiled SQL is the same as with --vars.
#}
{% macro build_var(name) %}
    {%- set value = var(name, none) -%}
    {%- if not is_unset(value) or not execute -%}
        {{ return(value) }}
    {%- endif -%}
    {%- set path = var('build_vars_file', none) -%}
    {%- if is_unset(path) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        "select content from read_text('" ~ (path | replace("'", "''")) ~ "')") -%}
    {{ return(fromjson(found.columns[0].values()[0]).get(name)) }}
{% endmacro %}


{#
    The as_of moment of this build, as a SQL expression. Unset means the log's watermark, and
    "recorded_at <= max(recorded_at)" keeps every event, so it is written as an unbounded
    moment: the same result, and each model then depends only on its own source (a watermark
    computed in SQL would make every model read every stream).
#}
{% macro as_of_timestamp() %}
    {%- if is_unset(build_var('as_of')) -%}
        {{ unbounded_timestamp() }}
    {%- else -%}
        {{ timestamp_literal(build_var('as_of')) }}
    {%- endif -%}
{%- endmacro %}


{# mart_revisions window: (from, to]. from null = nothing before; to null = as_of. #}
{% macro from_watermark_timestamp() %}
    {%- if is_unset(build_var('from_watermark')) -%}
        cast(null as timestamp with time zone)
    {%- else -%}
        {{ timestamp_literal(build_var('from_watermark')) }}
    {%- endif -%}
{%- endmacro %}

{% macro to_watermark_timestamp() %}
    {%- if is_unset(build_var('to_watermark')) -%}
        {{ as_of_timestamp() }}
    {%- else -%}
        {{ timestamp_literal(build_var('to_watermark')) }}
    {%- endif -%}
{%- endmacro %}


{#
    The order of one key's events, shared by history and current state so that both agree on
    which event came last: by recorded_at, ties broken by batch_id (sortable). Used on an
    events model of staging/ (one row per event, columns entity_key, recorded_at, batch_id).
#}

{# 0 for the key's first event, 1 for the next, ... #}
{% macro event_revision_number() -%}
    cast(row_number() over (partition by entity_key order by recorded_at, batch_id) - 1 as integer)
{%- endmacro %}

{# When the key's next event was recorded: the end of this event's validity (null while current). #}
{% macro event_superseded_at() -%}
    lead(recorded_at) over (partition by entity_key order by recorded_at, batch_id)
{%- endmacro %}

{# 1 for the key's latest event, 2 for the one before, ... #}
{% macro event_recency() -%}
    row_number() over (partition by entity_key order by recorded_at desc, batch_id desc)
{%- endmacro %}
