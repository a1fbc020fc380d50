-- area_grades: how many of each area's KPIs stand at each grade in each report year (zero counts included).
create or replace view area_grades as
with status as (select * from kpi_year_status),
kpis as (select kpi_id, area_id from ref_kpis),
areas as (select area_id, name as area, sort_order from ref_areas),
grades as (
    select grade, grade_rank from grade_bands
    union all
    select null, (select max(grade_rank) + 1 from grade_bands)  -- 評価不能: no graded actual yet
),
report_years as (select distinct report_fy from status),
cells as (
    select y.report_fy, a.area_id, a.area, a.sort_order, g.grade, g.grade_rank
    from report_years as y
    cross join areas as a
    cross join grades as g
),
counted as (
    select s.report_fy, k.area_id, s.grade, count(*) as kpis
    from status as s
    join kpis as k on k.kpi_id = s.kpi_id
    group by all
),
final as (
    select
        c.report_fy,
        c.area_id,
        c.area,
        coalesce(c.grade, '評価不能') as grade,
        c.grade_rank,
        coalesce(n.kpis, 0) as kpis,
        c.sort_order as area_order
    from cells as c
    left join counted as n
        on n.report_fy = c.report_fy and n.area_id = c.area_id and n.grade is not distinct from c.grade
)
select * from final order by report_fy, area_order, grade_rank;

comment on view area_grades is '分野別の評価の内訳: 報告年度・分野・評価ごとの指標数(0件も含む。報告書の概要用)';
comment on column area_grades.report_fy is '報告の対象年度(西暦)';
comment on column area_grades.area_id is '分野ID';
comment on column area_grades.area is '分野名';
comment on column area_grades.grade is '評価(実績がなく評価できないものは 評価不能)';
comment on column area_grades.grade_rank is '評価の順位(1が最良。評価不能は最後)';
comment on column area_grades.kpis is '指標数';
comment on column area_grades.area_order is '分野の並び順';
