-- kpi_reporters: per computed KPI and fiscal year its rule is in force, each local government expected to report its
-- counts (computed_kpis.reporters: the prefecture and municipalities, the municipalities, or a named group).
create or replace view kpi_reporters as
with rules as (select * from ref_computed_kpis),
governments as (select * from ref_local_governments),
memberships as (select * from ref_local_government_groups),
definitions as (select * from kpi_year_definitions),
rule_years as (
    -- the years the KPI exists and its rule is in force
    select r.kpi_id, d.fiscal_year, d.owner, r.rule, r.factor, r.reporters
    from rules as r
    join definitions as d on d.kpi_id = r.kpi_id and d.in_force and valid_in(d.fiscal_year, r.valid_from_fy, r.valid_to_fy)
),
final as (
    select
        y.kpi_id,
        y.fiscal_year,
        g.code,
        g.name,
        g.kind,
        g.region,
        y.rule,
        y.factor,
        y.reporters,
        y.owner
    from rule_years as y
    join governments as g on valid_in(y.fiscal_year, g.valid_from_fy, g.valid_to_fy)
    where y.reporters = 'prefecture_and_municipalities'
        or (y.reporters = 'municipalities' and is_municipality(g.kind))
        or exists (select 1 from memberships as m
                   where m.group_name = y.reporters and m.code = g.code
                     and valid_in(y.fiscal_year, m.valid_from_fy, m.valid_to_fy))
)
select * from final;

comment on view kpi_reporters is '報告すべき団体: 構成要素から計算する指標の計算ルールが効力をもつ年度ごとに、件数を報告すべき団体(computed_kpis.reporters による。その年度に存在する団体・グループの所属)';
comment on column kpi_reporters.kpi_id is '指標ID';
comment on column kpi_reporters.fiscal_year is '年度(西暦)';
comment on column kpi_reporters.code is '全国地方公共団体コード(6桁)';
comment on column kpi_reporters.name is '団体名';
comment on column kpi_reporters.kind is '種別: 県・市・町・村';
comment on column kpi_reporters.region is '地方(県は NULL)';
comment on column kpi_reporters.rule is 'その年度の計算ルール(ratio_of_sums・sum)';
comment on column kpi_reporters.factor is 'その年度の倍率(% なら 100)';
comment on column kpi_reporters.reporters is '報告する団体の指定(prefecture_and_municipalities・municipalities・グループ名)';
comment on column kpi_reporters.owner is 'その年度の指標の所管部局';
