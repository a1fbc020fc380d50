-- area_counts: per report year and area, how many KPIs stand at each grade (評価) and have each 見通し (zero counts included).
create or replace view area_counts as
with plan_kpis as (select kpi_id, area_id from ref_kpis),
areas as (select area_id, name as area, sort_order from ref_areas),
bands as (select * from grade_bands),
outlook_words as (select * from outlooks),
year_status as (select * from kpi_year_status),
year_outlook as (select * from kpi_year_outlook),
ungraded as (select max(grade_rank) + 1 as class_rank from bands),
classes as (
    select '評価' as measure, 1 as measure_order, grade as class, grade_rank as class_rank from bands
    union all
    -- no graded actual yet
    select '評価', 1, '評価不能', class_rank from ungraded
    union all
    select '見通し', 2, outlook, outlook_rank from outlook_words
),
classified as (
    select report_fy, kpi_id, '評価' as measure, coalesce(grade, '評価不能') as class from year_status
    union all
    select report_fy, kpi_id, '見通し', outlook from year_outlook
),
report_years as (select distinct report_fy from year_status),
cells as (
    select y.report_fy, a.area_id, a.area, a.sort_order, c.*
    from report_years as y
    cross join areas as a
    cross join classes as c
),
counted as (
    select c.report_fy, k.area_id, c.measure, c.class, count(*) as kpis
    from classified as c
    join plan_kpis as k on k.kpi_id = c.kpi_id
    group by all
),
final as (
    select
        c.report_fy,
        c.area_id,
        c.area,
        c.measure,
        c.class,
        c.class_rank,
        coalesce(n.kpis, 0) as kpis,
        c.sort_order as area_order,
        c.measure_order
    from cells as c
    left join counted as n
        on n.report_fy = c.report_fy and n.area_id = c.area_id and n.measure = c.measure and n.class = c.class
)
select * from final;

comment on view area_counts is '分野別の内訳: 報告年度・分野ごとに、評価別と見通し別の指標数(0件も含む。報告書の概要用)';
comment on column area_counts.report_fy is '報告の対象年度(西暦)';
comment on column area_counts.area_id is '分野ID';
comment on column area_counts.area is '分野名';
comment on column area_counts.measure is '何の内訳か: 評価 または 見通し';
comment on column area_counts.class is '評価(実績がなく評価できないものは 評価不能)または見通し';
comment on column area_counts.class_rank is 'その中の順位(1が最良。評価不能は最後)';
comment on column area_counts.kpis is '指標数';
comment on column area_counts.area_order is '分野の並び順';
comment on column area_counts.measure_order is '内訳の並び順(1=評価、2=見通し)';
