{#
    Fails for every KKiK KPI (is_kkik) without a curated direction: colours and ranks would be
    silently missing. Add the KPI to seeds/kpi_curation.csv (not_ranked is an explicit choice).
#}
{% test kkik_kpis_have_direction(model) %}

select kpi_id, title
from {{ model }}
where is_kkik
    and (direction is null or direction not in ('higher_better', 'lower_better', 'not_ranked'))

{% endtest %}
