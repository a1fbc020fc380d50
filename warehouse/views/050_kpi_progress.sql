-- kpi_progress: each KPI's actual per fiscal year against the straight trajectory from baseline to target.
create or replace view kpi_progress as
with definitions as (select * from kpi_year_definitions),
current_values as (select * from observation_history where valid_to is null),
aggregates as (select * from kpi_aggregates where scope_kind = '県全体'),
-- the bands in use, best first, the floor last: what grade_of reads
grading as (select list({'grade': grade, 'min_pace': min_pace} order by grade_rank) as bands from grade_bands),
reported as (
    -- a department's own values; several in one year: the latest 時点 counts
    select kpi_id, fiscal_year, arg_max(actual_value, as_of) as actual_value, max(as_of) as as_of,
        arg_max(provisional, as_of) as provisional, arg_max(value_status, as_of) as value_status,
        '部局報告' as value_source, null::bigint as units_reported, null::bigint as units_expected,
        false as aggregating
    from current_values
    group by kpi_id, fiscal_year
),
computed as (
    -- a computed KPI's prefecture-wide value, in a year its rule is in force and a unit has reported (not 0 of 0),
    -- while 集計中 only once the units reported hold half of last year's denominator (aggregate_stands)
    select kpi_id, fiscal_year, value as actual_value, as_of, provisional, value_status,
        '集計' as value_source, units_reported, units_expected, not complete as aggregating
    from aggregates
    where units_reported > 0 and value is not null
      and aggregate_stands(complete, share_of_last_year, units_reported, units_expected)
),
yearly as (
    -- the aggregate takes precedence; a department's value stands in the years without one
    select * from computed
    union all
    select * from reported as r
    where not exists (select 1 from computed as c where c.kpi_id = r.kpi_id and c.fiscal_year = r.fiscal_year)
),
expected as (
    select
        y.kpi_id, y.fiscal_year, y.actual_value, y.as_of, y.provisional, y.value_status, d.direction,
        y.value_source, y.units_reported, y.units_expected, y.aggregating,
        d.baseline_value as b, d.baseline_fy as b_fy, d.target_value as t, d.target_fy as t_fy,
        trajectory_value(d.baseline_value, d.baseline_fy, d.target_value, d.target_fy, y.fiscal_year) as expected_value
    from yearly as y
    -- the definition in force in the value's own fiscal year
    join definitions as d on d.kpi_id = y.kpi_id and d.fiscal_year = y.fiscal_year
),
rates as (
    select
        *,
        (actual_value - b) / nullif(t - b, 0) as progress_rate,
        -- the pace as an exact fraction of decimals (the macros in 005_macros.sql): graded without rounding noise
        pace_numerator(actual_value, b, b_fy, t_fy, fiscal_year) as pace_num,
        pace_denominator(b, b_fy, t, t_fy, fiscal_year) as pace_den,
        reached_target(direction, actual_value, t) as reached_target
    from expected
),
final as (
    select
        r.kpi_id, r.fiscal_year, r.actual_value, r.expected_value, r.progress_rate,
        r.pace_num / r.pace_den as pace_rate,
        grade_of(r.reached_target, r.pace_num, r.pace_den, g.bands) as grade,
        r.as_of,
        coalesce(r.reached_target, false) as reached_target,
        r.provisional,
        r.b as baseline_value_in_force,
        r.b_fy as baseline_fy_in_force,
        r.t as target_value_in_force,
        r.t_fy as target_fy_in_force,
        r.value_status,
        r.value_source,
        r.units_reported,
        r.units_expected,
        r.aggregating
    from rates as r
    cross join grading as g
)
select * from final;

comment on view kpi_progress is '指標の進捗: 実績のある指標・年度ごとに(構成要素から計算する指標は、計算ルールが効力をもち団体の報告がある年度は県全体の集計値)、その年度に効力のある基準値から目標値への直線の軌道と比べた進捗率と評価';
comment on column kpi_progress.kpi_id is '指標ID';
comment on column kpi_progress.fiscal_year is '年度(西暦)';
comment on column kpi_progress.actual_value is '実績値(その年度の最新の時点の値)';
comment on column kpi_progress.expected_value is '軌道上の値: 基準値+(目標値−基準値)×(年度−基準年度)/(目標年度−基準年度)。目標年度以降は目標値';
comment on column kpi_progress.progress_rate is '進捗率: (実績値−基準値)/(目標値−基準値)。目標までの道のりのうち進んだ割合';
comment on column kpi_progress.pace_rate is 'ペース: (実績値−基準値)/(軌道上の値−基準値)。基準年度以前や不明な値があれば NULL';
comment on column kpi_progress.grade is '評価(ペースによる A〜D。目標達成なら A)';
comment on column kpi_progress.as_of is '実績値の時点';
comment on column kpi_progress.reached_target is '目標値に到達しているか';
comment on column kpi_progress.provisional is '速報・見込・暫定の別(確定値なら NULL)';
comment on column kpi_progress.baseline_value_in_force is 'この年度に効力のある基準値(改定があればその年度の定義)';
comment on column kpi_progress.baseline_fy_in_force is 'この年度に効力のある基準年度';
comment on column kpi_progress.target_value_in_force is 'この年度に効力のある目標値';
comment on column kpi_progress.target_fy_in_force is 'この年度に効力のある目標年度';
comment on column kpi_progress.value_status is '確定=DX推進担当が確定した値, 未確定=それ以外(その年度の最新の時点の値について)';
comment on column kpi_progress.value_source is '実績値の出所: 集計=市町村等の件数の県全体の集計(kpi_aggregates), 部局報告=所管部局が報告した値';
comment on column kpi_progress.units_reported is '集計に含む報告した団体数(部局報告なら NULL)';
comment on column kpi_progress.units_expected is '報告すべき団体数(部局報告なら NULL)';
comment on column kpi_progress.aggregating is '集計中: 報告すべき団体がそろっていない集計値(true)。部局報告と全団体そろった集計値は false';
