/*
    Every event of a KPI value key up to as_of, as a validity interval [valid_from, valid_to):
    what fct_kpi_values (first recorded, revision count), int_kpi_values_current (the current
    rows) and mart_revisions (the state at two moments) read. Tombstones are kept so that
    "deleted at" is visible. It carries the source's id, not its URL: the URL is the widest
    column by far and dim_source has it once per source. first_recorded_at is computed here, in
    the same pass over the key's events, so fct_kpi_values needs no second aggregate and join.
*/
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_changed_kpis() }}") }}
-- Incremental by kpi_id (macros/incremental.sql): only the changed KPIs are recomputed.
with

events as (
    select * from {{ ref('stg_kolada__kpi_value_events') }}
    where {{ in_changed_kpis('kpi_id') }}
),

sequenced as (
    select
        entity_key,
        kpi_id,
        municipality_id,
        period,
        gender,
        event_type,
        value,
        value_count,
        status,
        payload_hash,
        recorded_at,
        batch_id,
        source_id,
        {{ event_revision_number() }} as revision_number,
        min(recorded_at) over (partition by entity_key) as first_recorded_at,
        recorded_at as valid_from,
        {{ event_superseded_at() }} as valid_to,
    from events
),

final as (
    select
        *,
        valid_to is null as is_current,
    from sequenced
)

select * from final
