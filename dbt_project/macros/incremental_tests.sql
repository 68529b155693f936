{#
    dbt tests that follow an incremental build (docs/checks-and-publishing.md, "Checks and
    incremental builds").

    An incremental build rewrites only the changed KPIs' partitions of the kpi_id-partitioned
    models (macros/incremental.sql). Every other row is the row that passed the same tests when
    its KPI was last built: the same code (a code change is a full rebuild), and a build whose
    tests failed is not recorded, so the next one is full (pipelines.warehouse.incremental). A
    test that judges each row, or each KPI, alone can therefore read only the changed KPIs.

    dbt wraps the tested model of every generic test in get_where_subquery(relation), at
    execution time (so the per-build vars file can be read, and the partial parse stays valid).
    This override adds `kpi_id in (...)` when all of these hold, and otherwise does what dbt's
    own does (the test's `where` config, or the relation itself):
    - the build is incremental: `incremental_kpis` is set in the build vars and dbt runs
      without --full-refresh (a full rebuild reads everything, as before);
    - the tested model is kpi-partitioned: its pre-hook is delete_changed_kpis();
    - the test is of a kind known to judge rows or KPIs alone (partition_local_tests() below); a
      key test only when its key determines kpi_id (a duplicate then lies inside one KPI);
    - the test does not say `meta: {reads_whole_table: true}`.
    Anything else reads the whole table: a test across KPIs (equals_sum_of, a new generic test
    nobody has classified, a singular test, which dbt does not wrap at all) stays correct.
#}

{#
    Test kinds whose failures lie inside one KPI's rows. Row-level: each row is judged alone;
    relationships: the tested row against the referenced table (read whole; a change to the
    municipalities is a full rebuild, a KPI leaving dim_kpi is an event of that KPI);
    liknande_mean_matches_members: a board row against its own KPI's member values.
#}
{% macro partition_local_tests() %}
    {{ return(['not_null', 'accepted_values', 'accepted_range', 'matches_regex', 'null_where',
               'not_null_where', 'at_least_column', 'relationships',
               'liknande_mean_matches_members']) }}
{% endmacro %}

{#
    Key tests (unique, unique_combination) read only the changed KPIs when one of their
    columns determines kpi_id: kpi_id itself, or entity_key ('kpi|municipality|period|gender',
    whose first part is kpi_id in stg_kolada__kpi_value_events and every model after it).
#}
{% macro kpi_determining_columns() %}
    {{ return(['kpi_id', 'entity_key']) }}
{% endmacro %}


{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set conditions = [] -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- if test_may_read_changed_kpis_only(relation) -%}
        {#- read last and once: a query of the vars file per test (pipelines.warehouse.build_vars) -#}
        {%- set kpis = build_var('incremental_kpis') -%}
        {%- if not is_unset(kpis) -%}
            {%- do conditions.append('kpi_id in (' ~ kpi_sql_list(kpis) ~ ')') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{#
    True when this test may read only the changed KPIs of `relation` on an incremental build
    (whether this build is one, get_where_subquery asks the vars file last: the other
    conditions cost no query).
#}
{% macro test_may_read_changed_kpis_only(relation) %}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set test = model if model is mapping else {} -%}
    {%- if (test.get('config', {}).get('meta') or {}).get('reads_whole_table') -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set tested = graph.nodes.get(test.get('attached_node') or '') -%}
    {%- if tested is none or tested.resource_type != 'model'
            or (tested.alias or tested.name) != relation.identifier -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set hooks = tested.config.get('pre-hook') or [] -%}
    {%- if 'delete_changed_kpis' not in (hooks | map(attribute='sql') | join(' ')) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set metadata = test.get('test_metadata') or {} -%}
    {%- set kind = metadata.get('name') -%}
    {%- set kwargs = metadata.get('kwargs') or {} -%}
    {%- if kind in partition_local_tests() -%}
        {{ return(true) }}
    {%- elif kind == 'unique' -%}
        {{ return(kwargs.get('column_name') in kpi_determining_columns()) }}
    {%- elif kind == 'unique_combination' -%}
        {%- set columns = kwargs.get('columns') or [] -%}
        {{ return(columns is not string
                  and (columns | select('in', kpi_determining_columns()) | list | length) > 0) }}
    {%- endif -%}
    {{ return(false) }}
{% endmacro %}

