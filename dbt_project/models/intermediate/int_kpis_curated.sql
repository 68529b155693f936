-- KPI metadata as of as_of with its unit, KKiK membership and the two curated directions:
-- `direction` says whether (and which way) the KPI is ranked and coloured, `change_direction`
-- which way is better for Förändring and trends (costs: not ranked, but a fall is Upp).
with

kpis as (
    select * from {{ ref('int_kpis_current') }}
),

kpi_groups as (
    select * from {{ ref('int_kpi_groups_current') }}
    where kpi_group_id = '{{ var("kkik_kpi_group_id") }}'
),

curation as (
    select * from {{ ref('kpi_curation') }}
),

kkik_members as (
    select distinct {{ json_text('member', 'member_id') }} as kpi_id
    from kpi_groups,
        {{ json_elements('kpi_groups.members') }} as elements (member)
),

series_breaks as (
    select * from {{ ref('int_kpi_series_breaks') }}
),

value_years as (
    select
        kpi_id,
        min(period) as first_year,
        max(period) as last_year
    from {{ ref('int_kpi_values_current') }}
    where value is not null
    group by kpi_id
),

with_unit as (
    select
        kpis.*,
        lower(trim(
            case
                when kpis.title like '%,%'
                    then {{ regex_extract('kpis.title', ',([^,]*)$', 1) }}
                else kpis.title
            end
        )) as last_segment
    from kpis
),

final as (
    select
        with_unit.kpi_id,
        with_unit.title,
        with_unit.description,
        coalesce(nullif(curation.unit_override, ''), case
            when with_unit.last_segment = '(%)' then '%'
            when with_unit.last_segment like '%(!%)%' escape '!' then 'andel (%)'
            when with_unit.last_segment like 'kr/inskrivet barn%' then 'kr/inskrivet barn'
            when with_unit.last_segment like 'kr/elev%' then 'kr/elev'
            when with_unit.last_segment like 'kr/inv%' then 'kr/inv'
            when with_unit.last_segment like '%dagar%' then 'dagar'
            when lower(with_unit.title) like 'väntetid i antal dagar%' then 'dagar'
            when with_unit.last_segment like '%index%' then 'index'
            when with_unit.last_segment like 'kg/%' then 'kg/inv'
            when with_unit.last_segment like 'antal/%' then with_unit.last_segment
            when with_unit.last_segment in ('antal', 'medelvärde') then 'antal'
            else 'övrigt'
        end) as unit,
        with_unit.operating_area,
        with_unit.perspective,
        with_unit.is_divided_by_gender,
        with_unit.publication_date,
        with_unit.publ_period,
        kkik_members.kpi_id is not null as is_kkik,
        case when kkik_members.kpi_id is not null then curation.kkik_area end as kkik_area,
        case when kkik_members.kpi_id is not null then nullif(curation.area_source, '') end as kkik_area_source,
        case
            when kkik_members.kpi_id is not null
                then coalesce(curation.kkik_first_year, value_years.first_year)
        end as kkik_first_year,
        case
            when kkik_members.kpi_id is not null
                then coalesce(curation.kkik_last_year, value_years.last_year)
        end as kkik_last_year,
        curation.direction,
        series_breaks.series_start_year,
        coalesce(curation.change_direction, case
            when curation.direction in ('higher_better', 'lower_better') then curation.direction
            when curation.direction is not null then 'neutral'
        end) as change_direction,
        curation.direction_source
    from with_unit
    left join kkik_members
        on with_unit.kpi_id = kkik_members.kpi_id
    left join curation
        on with_unit.kpi_id = curation.kpi_id
    left join value_years
        on with_unit.kpi_id = value_years.kpi_id
    left join series_breaks
        on with_unit.kpi_id = series_breaks.kpi_id
)

select * from final
