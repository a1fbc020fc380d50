-- kpi_year_status: where each KPI stood in each report year: its latest actual up to that fiscal year.
create or replace view kpi_year_status as
with plan_kpis as (select * from ref_kpis),
progress as (select * from kpi_progress),
report_years as (
    select fiscal_year as report_fy from kpi_trajectory
    union
    select fiscal_year from progress
),
up_to as (
    select y.report_fy, p.*
    from report_years as y
    join progress as p on p.fiscal_year <= y.report_fy
),
latest as (
    select * from up_to
    qualify row_number() over (partition by report_fy, kpi_id order by fiscal_year desc) = 1
),
final as (
    select
        y.report_fy,
        k.kpi_id,
        l.fiscal_year,
        l.actual_value,
        l.expected_value,
        l.progress_rate,
        l.pace_rate,
        l.grade,
        l.as_of,
        l.reached_target,
        l.provisional,
        l.fiscal_year = y.report_fy as reported_this_year,
        l.value_status,
        l.value_source,
        l.units_reported,
        l.units_expected,
        l.aggregating
    from report_years as y
    cross join plan_kpis as k
    left join latest as l on l.report_fy = y.report_fy and l.kpi_id = k.kpi_id
)
select * from final;

comment on view kpi_year_status is '報告年度ごとの指標の状況: その年度までで最新の実績と評価(報告書用)';
comment on column kpi_year_status.report_fy is '報告の対象年度(西暦)';
comment on column kpi_year_status.kpi_id is '指標ID';
comment on column kpi_year_status.fiscal_year is '最新の実績の年度(実績がなければ NULL)';
comment on column kpi_year_status.actual_value is 'その実績値';
comment on column kpi_year_status.expected_value is 'その年度の軌道上の値';
comment on column kpi_year_status.progress_rate is '進捗率';
comment on column kpi_year_status.pace_rate is 'ペース(軌道比)';
comment on column kpi_year_status.grade is '評価';
comment on column kpi_year_status.as_of is '実績値の時点';
comment on column kpi_year_status.reached_target is '目標値に到達しているか';
comment on column kpi_year_status.provisional is '速報・見込・暫定の別';
comment on column kpi_year_status.reported_this_year is '報告の対象年度そのものの実績か(前年度以前の実績なら false)';
comment on column kpi_year_status.value_status is '確定=確定した値, 未確定=それ以外';
comment on column kpi_year_status.value_source is '実績値の出所: 集計・部局報告';
comment on column kpi_year_status.units_reported is '集計に含む報告した団体数(集計値のときだけ)';
comment on column kpi_year_status.units_expected is '報告すべき団体数(集計値のときだけ)';
comment on column kpi_year_status.aggregating is '集計中か(報告すべき団体がそろっていない集計値なら true)';
