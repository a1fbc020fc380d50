-- kpi_trajectory: each KPI's straight path from baseline to target, one row per fiscal year of the plan.
create or replace view kpi_trajectory as
with kpis as (select * from ref_kpis),
plan as (select min(baseline_fy) as first_fy, max(target_fy) as last_fy from kpis),
years as (select unnest(range(first_fy, last_fy + 1)) as fiscal_year from plan),
final as (
    select
        k.kpi_id,
        y.fiscal_year,
        case
            when k.baseline_value is null or k.baseline_fy is null
                or k.target_value is null or k.target_fy is null then null
            when y.fiscal_year >= k.target_fy then k.target_value
            else k.baseline_value + (k.target_value - k.baseline_value)
                * (y.fiscal_year - k.baseline_fy) / (k.target_fy - k.baseline_fy)
        end as expected_value,
        y.fiscal_year = k.baseline_fy as is_baseline,
        y.fiscal_year = k.target_fy as is_target
    from kpis as k
    cross join years as y
)
select * from final order by kpi_id, fiscal_year;

comment on view kpi_trajectory is '指標の軌道: 基準値から目標値への直線上の値(計画期間の各年度)';
comment on column kpi_trajectory.kpi_id is '指標ID';
comment on column kpi_trajectory.fiscal_year is '年度(西暦)';
comment on column kpi_trajectory.expected_value is '軌道上の値: 基準値+(目標値−基準値)×(年度−基準年度)/(目標年度−基準年度)。目標年度以降は目標値。不明な値があれば NULL';
comment on column kpi_trajectory.is_baseline is '基準年度か';
comment on column kpi_trajectory.is_target is '目標年度か';
