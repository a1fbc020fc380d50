-- kpis: the plan's KPIs with baseline and target, as transcribed from the seed.
create or replace view kpis as
with ref_kpis as (select * from ref_kpis),
ref_areas as (select * from ref_areas),
ref_initiatives as (select * from ref_initiatives),
final as (
    select
        k.kpi_id,
        k.name,
        a.name as area,
        i.name as initiative,
        k.owner,
        k.unit,
        k.direction,
        k.baseline_value,
        k.baseline_fy,
        k.target_value,
        k.target_fy,
        k.baseline_decimals,
        k.target_decimals,
        a.area_group,
        k.area_id,
        k.initiative_id,
        k.note,
        k.introduced_fy,
        k.retired_fy
    from ref_kpis as k
    join ref_areas as a on a.area_id = k.area_id
    left join ref_initiatives as i on i.initiative_id = k.initiative_id
)
select * from final;

comment on view kpis is '指標(KPI)一覧: 廃止されたものも含むすべての指標の、最新の定義(基準値(基準年度)・目標値(目標年度)・所管部局)。改定がなければ資料の記載どおり';
comment on column kpis.kpi_id is '指標ID';
comment on column kpis.name is '指標名';
comment on column kpis.area is '分野';
comment on column kpis.initiative is '項目(取組)。行政のDXの2指標は項目に属さないため空欄';
comment on column kpis.owner is '所管部局(例示の割当て)';
comment on column kpis.unit is '単位(資料の記載どおり: %, 百万枚, 万件 など)';
comment on column kpis.direction is '方向: increase=大きいほど良い, decrease=小さいほど良い';
comment on column kpis.baseline_value is '基準値(不明の場合は NULL)';
comment on column kpis.baseline_fy is '基準年度(西暦の年度: R3=2021)';
comment on column kpis.target_value is '目標値';
comment on column kpis.target_fy is '目標年度(西暦の年度。不明の場合は NULL)';
comment on column kpis.baseline_decimals is '基準値の記載桁数(小数点以下)';
comment on column kpis.target_decimals is '目標値の記載桁数(小数点以下: 80.0 なら 1)';
comment on column kpis.area_group is '分野の区分(行政のDX / 市町村支援・連携 / 地域のDX)';
comment on column kpis.area_id is '分野ID';
comment on column kpis.initiative_id is '項目ID';
comment on column kpis.note is '備考(不明な値の理由など)';
comment on column kpis.introduced_fy is '導入年度(計画の当初からある指標は NULL)';
comment on column kpis.retired_fy is '廃止年度: この年度から指標がない(現行の指標は NULL)';
