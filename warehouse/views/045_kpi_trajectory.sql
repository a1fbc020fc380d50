-- kpi_trajectory: each KPI's straight path from baseline to target, one row per fiscal year of the plan.
create or replace view kpi_trajectory as
with definitions as (select * from kpi_year_definitions),
final as (
    select
        kpi_id,
        fiscal_year,
        trajectory_value(baseline_value, baseline_fy, target_value, target_fy, fiscal_year) as expected_value,
        fiscal_year = baseline_fy as is_baseline,
        fiscal_year = target_fy as is_target
    from definitions
)
select * from final;

comment on view kpi_trajectory is '指標の軌道: 基準値から目標値への直線上の値(計画期間の各年度。各年度に効力のある基準値・目標値による)';
comment on column kpi_trajectory.kpi_id is '指標ID';
comment on column kpi_trajectory.fiscal_year is '年度(西暦)';
comment on column kpi_trajectory.expected_value is '軌道上の値: 基準値+(目標値−基準値)×(年度−基準年度)/(目標年度−基準年度)。目標年度以降は目標値。不明な値があれば NULL';
comment on column kpi_trajectory.is_baseline is '基準年度か';
comment on column kpi_trajectory.is_target is '目標年度か';
