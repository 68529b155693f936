{#
    The quality profile's fixed parts (docs/indicators.md, "Quality profile"): which economy
    and employer KPIs it ranks, under which column names, and the composite's weights.

    Why these KPIs: they are Sveriges KvalitetsKommun's economy (financial analysis) and
    employer (incl. HME) criteria as far as Kolada publishes them for all 290, and they are
    the economy and employer themes of pipelines/config/default.yaml. The tax rate is context:
    a political choice, never ranked. mart_quality_profile's contract lists the same columns.
#}
{% macro quality_profile_kpis() %}
    {% do return([
        {'kpi_id': 'N03102', 'dimension': 'economy', 'stem': 'arets_resultat', 'ranked': true},
        {'kpi_id': 'N03002', 'dimension': 'economy', 'stem': 'soliditet', 'ranked': true},
        {'kpi_id': 'N03103', 'dimension': 'economy', 'stem': 'sjalvfinansieringsgrad', 'ranked': true},
        {'kpi_id': 'N00097', 'dimension': 'economy', 'stem': 'nettokostnadsavvikelse', 'ranked': true},
        {'kpi_id': 'N03105', 'dimension': 'economy', 'stem': 'kassalikviditet', 'ranked': true},
        {'kpi_id': 'N00901', 'dimension': 'economy', 'stem': 'skattesats', 'ranked': false},
        {'kpi_id': 'N00090', 'dimension': 'employer', 'stem': 'sjukfranvaro', 'ranked': true},
        {'kpi_id': 'N00091', 'dimension': 'employer', 'stem': 'langtidssjukfranvaro', 'ranked': true},
        {'kpi_id': 'N00206', 'dimension': 'employer', 'stem': 'heltidsandel', 'ranked': true},
        {'kpi_id': 'N00216', 'dimension': 'employer', 'stem': 'personalomsattning', 'ranked': true},
        {'kpi_id': 'U00200', 'dimension': 'employer', 'stem': 'hme', 'ranked': true},
    ]) %}
{% endmacro %}

{# The profile KPIs as a relation (kpi_id, dimension, stem, is_profile_ranked). #}
{% macro quality_profile_kpis_relation() %}
    select * from (
        values
        {%- for kpi in quality_profile_kpis() %}
        ('{{ kpi.kpi_id }}', '{{ kpi.dimension }}', '{{ kpi.stem }}', {{ kpi.ranked }}){{ "," if not loop.last }}
        {%- endfor %}
    ) as profile_kpis (kpi_id, dimension, stem, is_profile_ranked)
{% endmacro %}

{#
    The composite's weight of one dimension (results, economy, employer, development,
    kommunkompassen) from var('profile_weights'), which the Python side passes from KK_CONFIG
    (quality_profile.weights) and dbt_project.yml defaults.
#}
{% macro profile_weight(dimension) -%}
    {%- set raw = var('profile_weights', {}) -%}
    {%- if raw is string -%}
        {%- set raw = fromjson(raw) if raw | trim else {} -%}
    {%- endif -%}
    cast({{ (raw or {}).get(dimension, 0) | float }} as double)
{%- endmacro %}

{#
    Mid-rank percentile: 0 = best, 1 = worst; tied values share the mean position of their
    block; a single ranked value sits at 0.5.
#}
{% macro midrank_percentile(rank_best, tied_count, ranked_count) -%}
    case
        when {{ rank_best }} is null then null
        when {{ ranked_count }} = 1 then 0.5
        else (({{ rank_best }} - 1) + ({{ tied_count }} - 1) / 2.0) / ({{ ranked_count }} - 1)
    end
{%- endmacro %}
