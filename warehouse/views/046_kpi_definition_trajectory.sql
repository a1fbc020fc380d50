-- kpi_definition_trajectory: each definition's own straight path from its baseline to its target, over every year of the plan (the charts draw one definition).
create or replace view kpi_definition_trajectory as
with definitions as (select * from ref_kpi_definitions),
years as (select distinct fiscal_year from kpi_year_definitions),
final as (
    select
        d.kpi_id,
        d.version,
        y.fiscal_year,
        trajectory_value(d.baseline_value, d.baseline_fy, d.target_value, d.target_fy, y.fiscal_year) as expected_value,
        y.fiscal_year = d.baseline_fy as is_baseline,
        y.fiscal_year = d.target_fy as is_target
    from definitions as d
    cross join years as y
)
select * from final;

comment on view kpi_definition_trajectory is '定義ごとの軌道: 指標の各版(kpi_definitions)の基準値から目標値への直線を、計画の全年度について(グラフは判定に使った1つの版の直線を描く)';
comment on column kpi_definition_trajectory.kpi_id is '指標ID';
comment on column kpi_definition_trajectory.version is '定義の版番号(kpi_definitions.version)';
comment on column kpi_definition_trajectory.fiscal_year is '年度(西暦)';
comment on column kpi_definition_trajectory.expected_value is 'この版の軌道上の値: 基準値+(目標値−基準値)×(年度−基準年度)/(目標年度−基準年度)。目標年度以降は目標値。不明な値があれば NULL';
comment on column kpi_definition_trajectory.is_baseline is 'この版の基準年度か';
comment on column kpi_definition_trajectory.is_target is 'この版の目標年度か';
