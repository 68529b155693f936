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
    The as_of moment of this build, as a SQL expression. Unset means the log's watermark, and
    "recorded_at <= max(recorded_at)" keeps every event, so it is written as an unbounded
    moment: the same result, and each model then depends only on its own source (a watermark
    computed in SQL would make every model read every stream).
#}
{% macro as_of_timestamp() %}
    {%- if is_unset(var('as_of', none)) -%}
        {{ unbounded_timestamp() }}
    {%- else -%}
        {{ timestamp_literal(var('as_of')) }}
    {%- endif -%}
{%- endmacro %}


{# mart_revisions window: (from, to]. from null = nothing before; to null = as_of. #}
{% macro from_watermark_timestamp() %}
    {%- if is_unset(var('from_watermark', none)) -%}
        cast(null as timestamp with time zone)
    {%- else -%}
        {{ timestamp_literal(var('from_watermark')) }}
    {%- endif -%}
{%- endmacro %}

{% macro to_watermark_timestamp() %}
    {%- if is_unset(var('to_watermark', none)) -%}
        {{ as_of_timestamp() }}
    {%- else -%}
        {{ timestamp_literal(var('to_watermark')) }}
    {%- endif -%}
{%- endmacro %}


{#
    The events of one stream recorded up to as_of, each with its place in its key's history:
    revision_number (0 = first event of the key), valid_from, valid_to (next event of the key,
    null while current). Ties of recorded_at are broken by batch_id (sortable).
#}
{% macro historized_events(stream) %}
    with

    events as (
        select *
        from {{ source('kolada', stream) }}
        where recorded_at <= {{ as_of_timestamp() }}
    ),

    sequenced as (
        select
            stream,
            entity_key,
            event_type,
            payload,
            payload_hash,
            recorded_at,
            batch_id,
            source as source_url,
            schema_version,
            row_number() over (
                partition by entity_key order by recorded_at, batch_id
            ) - 1 as revision_number,
            recorded_at as valid_from,
            lead(recorded_at) over (
                partition by entity_key order by recorded_at, batch_id
            ) as valid_to,
        from events
    ),

    final as (
        select
            *,
            valid_to is null as is_current,
        from sequenced
    )

    select * from final
{% endmacro %}


{# Current state of one stream as of as_of: latest event per key, tombstones removed. #}
{% macro current_events(stream) %}
    with

    events as (
        select *
        from {{ source('kolada', stream) }}
        where recorded_at <= {{ as_of_timestamp() }}
    ),

    ranked as (
        select
            *,
            row_number() over (
                partition by entity_key order by recorded_at desc, batch_id desc
            ) as recency,
        from events
    ),

    final as (
        select *
        from ranked
        where recency = 1
            and event_type = 'upserted'
    )

    select * from final
{% endmacro %}
