with

scorecard as (
    select * from {{ ref('mart_kkik_scorecard') }}
),

final as (
    select
        municipality_id,
        municipality_name,
        year,
        kkik_area,
        cast(sum(case when colour = 'green' then 1 else 0 end) as integer) as green,
        cast(sum(case when colour = 'yellow' then 1 else 0 end) as integer) as yellow,
        cast(sum(case when colour = 'red' then 1 else 0 end) as integer) as red,
        cast(sum(case when colour = 'grey' then 1 else 0 end) as integer) as grey,
        cast(sum(case when colour is null then 1 else 0 end) as integer) as not_ranked,
        cast(count(*) as integer) as kpis
    from scorecard
    group by municipality_id, municipality_name, year, kkik_area
)

select * from final
