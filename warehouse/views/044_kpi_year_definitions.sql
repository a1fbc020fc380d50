-- kpi_year_definitions: the definition of each KPI that applies in each fiscal year, and whether the KPI exists that year.
create or replace view kpi_year_definitions as
with definitions as (select * from ref_kpi_definitions),
plan_kpis as (select * from ref_kpis),
-- the latest year with a department's value or a local government's count
observed as (
    select max(fiscal_year) as last_fy
    from (select fiscal_year from raw_observations union all select fiscal_year from raw_component_counts)
),
bounds as (
    select min(baseline_fy) as first_fy, greatest(max(target_fy), (select last_fy from observed)) as last_fy
    from definitions
),
years as (select unnest(range(first_fy, last_fy + 1)) as fiscal_year from bounds),
spans as (
    -- before its first definition a KPI takes that one, after its last (retired) that one: charts stay continuous
    select
        *,
        case when version = min(version) over (partition by kpi_id) then -9999 else valid_from_fy end as from_fy,
        case when version = max(version) over (partition by kpi_id) then 9999 else valid_to_fy end as to_fy
    from definitions
),
final as (
    select
        s.kpi_id,
        y.fiscal_year,
        s.name,
        s.owner,
        s.direction,
        s.baseline_value,
        s.baseline_fy,
        s.target_value,
        s.target_fy,
        s.version,
        (k.introduced_fy is null or y.fiscal_year >= k.introduced_fy)
            and (k.retired_fy is null or y.fiscal_year < k.retired_fy) as in_force
    from years as y
    join spans as s on y.fiscal_year between s.from_fy and s.to_fy
    join plan_kpis as k on k.kpi_id = s.kpi_id
)
select * from final;

comment on view kpi_year_definitions is '年度ごとの指標の定義: その年度に効力のある基準値・目標値・所管部局と、その年度に指標が存在するか';
comment on column kpi_year_definitions.kpi_id is '指標ID';
comment on column kpi_year_definitions.fiscal_year is '年度(西暦)';
comment on column kpi_year_definitions.name is '指標名';
comment on column kpi_year_definitions.owner is 'その年度の所管部局';
comment on column kpi_year_definitions.direction is '方向';
comment on column kpi_year_definitions.baseline_value is 'その年度に効力のある基準値';
comment on column kpi_year_definitions.baseline_fy is 'その年度に効力のある基準年度';
comment on column kpi_year_definitions.target_value is 'その年度に効力のある目標値';
comment on column kpi_year_definitions.target_fy is 'その年度に効力のある目標年度';
comment on column kpi_year_definitions.version is '定義の版番号(kpi_definitions.version)';
comment on column kpi_year_definitions.in_force is 'その年度に指標が存在するか(導入年度から廃止年度の前年度まで)';
