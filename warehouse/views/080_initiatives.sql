-- initiatives: every initiative (項目) of the plan, with or without a KPI.
create or replace view initiatives as
with ref_initiatives as (select * from ref_initiatives),
ref_areas as (select * from ref_areas),
kpi_counts as (select initiative_id, count(*) as kpis from ref_kpis where initiative_id is not null group by initiative_id),
final as (
    select
        i.initiative_id,
        a.name as area,
        i.name,
        i.activities,
        i.owner,
        coalesce(c.kpis, 0) > 0 as has_kpi,
        i.section,
        i.area_id,
        a.sort_order as area_order,
        i.note
    from ref_initiatives as i
    join ref_areas as a on a.area_id = i.area_id
    left join kpi_counts as c on c.initiative_id = i.initiative_id
)
select * from final;

comment on view initiatives is '取組項目: 計画のすべての項目(指標のない項目を含む)';
comment on column initiatives.initiative_id is '項目ID';
comment on column initiatives.area is '分野';
comment on column initiatives.name is '項目名';
comment on column initiatives.activities is '取組内容(資料の記載)';
comment on column initiatives.owner is '所管部局(例示の割当て)';
comment on column initiatives.has_kpi is '指標があるか(テクノアカデミーのように指標の設定がなじまない項目は false)';
comment on column initiatives.section is '資料上の区分見出し';
comment on column initiatives.area_id is '分野ID';
comment on column initiatives.area_order is '分野の並び順';
comment on column initiatives.note is '備考';
