{#
    Which dbt invocation last built each mart's table, in build_meta.model_builds.

    The publisher (pipelines/publish/publisher.py) records it per mart in the manifest. When a
    mart's table was built by the same invocation as the one the current publication read, the
    table is that publication's, row for row: nothing else writes the warehouse, and a model's
    post-hooks run inside the transaction that replaces (or increments) its table, so a table
    and its record change together or not at all. The publisher then shares the mart's files
    without reading or hashing its rows (on workload M the largest marts are ~10M rows, read
    and hashed on every import although the import never rebuilds them).

    Outside `main`, so the marts' schema holds only dbt's own tables.
#}

{% macro create_model_builds() %}
    create schema if not exists build_meta;
    create table if not exists build_meta.model_builds (
        model varchar not null,
        invocation_id varchar not null
    )
{% endmacro %}

{# A delete and an insert rather than an upsert: two threads' transactions then never touch
   the same row, and the table needs no key. #}
{% macro forget_model_build() %}
    delete from build_meta.model_builds where model = '{{ this.identifier }}'
{% endmacro %}

{% macro record_model_build() %}
    insert into build_meta.model_builds (model, invocation_id)
    values ('{{ this.identifier }}', '{{ invocation_id }}')
{% endmacro %}
