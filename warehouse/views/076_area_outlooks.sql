-- area_outlooks: how many of each area's KPIs have each 見通し in each report year (zero counts included).
create or replace view area_outlooks as
with outlook as (select * from kpi_year_outlook),
kpis as (select kpi_id, area_id from ref_kpis),
areas as (select area_id, name as area, sort_order from ref_areas),
words as (select outlook, outlook_rank from outlooks),
report_years as (select distinct report_fy from outlook),
cells as (
    select y.report_fy, a.area_id, a.area, a.sort_order, w.outlook, w.outlook_rank
    from report_years as y
    cross join areas as a
    cross join words as w
),
counted as (
    select o.report_fy, k.area_id, o.outlook, count(*) as kpis
    from outlook as o
    join kpis as k on k.kpi_id = o.kpi_id
    group by all
),
final as (
    select
        c.report_fy,
        c.area_id,
        c.area,
        c.outlook,
        c.outlook_rank,
        coalesce(n.kpis, 0) as kpis,
        c.sort_order as area_order
    from cells as c
    left join counted as n
        on n.report_fy = c.report_fy and n.area_id = c.area_id and n.outlook = c.outlook
)
select * from final order by report_fy, area_order, outlook_rank;

comment on view area_outlooks is '分野別の見通しの内訳: 報告年度・分野・見通しごとの指標数(0件も含む。報告書の概要用)';
comment on column area_outlooks.report_fy is '報告の対象年度(西暦)';
comment on column area_outlooks.area_id is '分野ID';
comment on column area_outlooks.area is '分野名';
comment on column area_outlooks.outlook is '見通し';
comment on column area_outlooks.outlook_rank is '見通しの順位(1が最良)';
comment on column area_outlooks.kpis is '指標数';
comment on column area_outlooks.area_order is '分野の並び順';
