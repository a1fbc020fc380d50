-- computed_kpis: KPIs declared computed from local governments' counts (catalogue/computed_kpis.csv), one row per
-- rule and its fiscal years. The values are computed in local_government_values and kpi_aggregates; the prefecture's
-- aggregate is the KPI's value in kpi_progress in the years its rule is in force and a unit has reported.
create or replace view computed_kpis as
with rules as (select * from ref_computed_kpis),
plan_kpis as (select * from ref_kpis),
final as (
    select
        r.kpi_id,
        k.name as kpi_name,
        k.unit as kpi_unit,
        k.owner,
        r.rule,
        r.factor,
        r.reporters,
        case when r.reporters in ('prefecture_and_municipalities', 'municipalities') then 'set' else 'group' end
            as reporters_kind,
        r.valid_from_fy,
        r.valid_to_fy,
        r.row_order
    from rules as r
    join plan_kpis as k on k.kpi_id = r.kpi_id
)
select * from final;

comment on view computed_kpis is '構成要素から計算する指標: 市町村等の件数から計算すると宣言された指標と、その計算ルール・報告する団体・適用年度(catalogue/computed_kpis.csv)。値は local_government_values・kpi_aggregates で計算し、ルールが効力をもち団体の報告がある年度は県全体の集計値が kpi_progress の実績値になる';
comment on column computed_kpis.kpi_id is '指標ID';
comment on column computed_kpis.kpi_name is '指標名(計画どおり)';
comment on column computed_kpis.kpi_unit is '指標の単位(% など)';
comment on column computed_kpis.owner is '所管部局(計画どおり)';
comment on column computed_kpis.rule is '計算ルール: ratio_of_sums(分子の合計 ÷ 分母の合計 × factor。団体ごとの率の平均ではない)、sum(加算の合計 × factor)';
comment on column computed_kpis.factor is '倍率(% なら 100)';
comment on column computed_kpis.reporters is '構成要素を報告する団体: prefecture_and_municipalities(県と市町村)、municipalities(市町村)、または local_government_groups のグループ名';
comment on column computed_kpis.reporters_kind is 'reporters の種類: set(県と市町村・市町村)、group(名前のついたグループ)';
comment on column computed_kpis.valid_from_fy is 'このルールで計算する最初の年度';
comment on column computed_kpis.valid_to_fy is 'このルールで計算する最後の年度(NULL: 現在も有効)';
comment on column computed_kpis.row_order is 'ファイル上の並び順';
