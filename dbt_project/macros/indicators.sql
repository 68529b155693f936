{#
    Formulas shared by several models; their definitions are in docs/indicators.md.
#}

{# True when `value` is better than `other` for the KPI's direction (null for not_ranked or missing). #}
{% macro is_better(value, other, direction) -%}
    case
        when {{ value }} is null or {{ other }} is null then null
        when {{ direction }} = 'higher_better' then {{ value }} > {{ other }}
        when {{ direction }} = 'lower_better' then {{ value }} < {{ other }}
    end
{%- endmacro %}

{#
    Förändring, improvement-aware: Ingen without a value in Y-1 (or Y), or when the edition does
    not judge the KPI (change_direction not_judged); Lika when Y and Y-1 are equal at the
    precision the board prints them (`decimals`, from change_decimals); else Upp/Ned by the
    KPI's change_direction: lower_better (costs, waiting times) says Upp for a fall;
    higher_better and neutral (population, tax rate) say Upp for a rise.
#}
{% macro kkik_change(value, previous, change_direction, decimals=1) -%}
    case
        when {{ value }} is null or {{ previous }} is null then 'Ingen'
        when {{ change_direction }} = 'not_judged' then 'Ingen'
        when round({{ value }}, {{ decimals }}) = round({{ previous }}, {{ decimals }}) then 'Lika'
        when {{ change_direction }} = 'lower_better' then
            case when {{ value }} < {{ previous }} then 'Upp' else 'Ned' end
        else
            case when {{ value }} > {{ previous }} then 'Upp' else 'Ned' end
    end
{%- endmacro %}

{#
    The "Lika" precision per unit (docs/indicators.md, "Change"): the decimals a KKiK table prints
    the unit with, so that two values printed alike are never Upp or Ned and two printed
    differently are never Lika. Whole numbers for shares and percentages (municipal KKiK tables
    print "83 %"), indexes, kronor and days; one decimal for counts and ratios (children per
    employee, staff met, kg per inhabitant) and for a unit not known.
#}
{% macro change_decimals(unit) -%}
    case
        when {{ unit }} in ('andel (%)', '%', 'index', 'dagar') then 0
        when {{ unit }} like 'kr/%' then 0
        else 1
    end
{%- endmacro %}

{#
    The custom peer networks from var('networks') (a list of {id, title, members}, or the same as
    a JSON string) as a relation (network_id, network_title, member_id).
#}
{% macro networks_relation() %}
    {%- set raw = var('networks', []) -%}
    {%- if raw is string -%}
        {%- set raw = fromjson(raw) if raw | trim else [] -%}
    {%- endif -%}
    {%- set rows = [] -%}
    {%- for network in (raw or []) -%}
        {%- for member in network.get('members', []) -%}
            {%- do rows.append((network['id'] | string, network.get('title', network['id']) | string, member | string)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if rows -%}
        select * from (
            values
            {%- for row in rows %}
            ('{{ row[0] | replace("'", "''") }}', '{{ row[1] | replace("'", "''") }}', '{{ row[2] | replace("'", "''") }}'){{ "," if not loop.last }}
            {%- endfor %}
        ) as networks (network_id, network_title, member_id)
    {%- else -%}
        select
            cast(null as varchar) as network_id,
            cast(null as varchar) as network_title,
            cast(null as varchar) as member_id
        where 1 = 0
    {%- endif -%}
{% endmacro %}

{# The unit part of a Kolada title: its last ", "-separated segment, lower-cased and trimmed. #}
{% macro title_unit(title) -%}
    lower(trim(case
        when {{ title }} like '%,%' then {{ regex_extract(title, ',([^,]*)$', 1) }}
        else ''
    end))
{%- endmacro %}

{# Two peer means differ: one is null and the other not, or they differ beyond float noise. #}
{% macro means_differ(old, new) -%}
    coalesce(
        ({{ old }} is null) != ({{ new }} is null)
        or abs({{ old }} - {{ new }}) > 1e-9 * greatest(1.0, abs({{ new }})),
        false
    )
{%- endmacro %}
