-- kpi_year_outlook: 見通し per report year: the least-squares line through the baseline and each year's actual up to it.
create or replace view kpi_year_outlook as
with status as (select * from kpi_year_status),
definitions as (select * from kpi_year_definitions),
progress as (select * from kpi_progress),
settings as (select * from cfg_settings),
-- One definition judges a report year's standing: the one in force in the fiscal year of its latest actual
-- (kpi_progress graded that actual by it), or in the report year itself without one. Revisions effective
-- later never reach back into a past report year; a target raised after a year the KPI reached it leaves it reached.
standing as (
    select
        s.report_fy, s.kpi_id, s.fiscal_year as latest_fy, s.actual_value as latest_value,
        coalesce(s.fiscal_year, s.report_fy) as definition_fy, d.version,
        d.direction, d.baseline_value as b, d.baseline_fy as b_fy, d.target_value as t, d.target_fy as t_fy
    from status as s
    left join definitions as d on d.kpi_id = s.kpi_id and d.fiscal_year = coalesce(s.fiscal_year, s.report_fy)
),
points as (
    -- the baseline ...
    select report_fy, kpi_id, 0 as x, b as value, false as provisional_point
    from standing
    where b is not null and b_fy is not null and b_fy <= report_fy
    union all
    -- ... and each later fiscal year's value as kpi_progress has it (the latest 時点 of the year)
    select s.report_fy, s.kpi_id, p.fiscal_year - s.b_fy as x, p.actual_value as value,
        -- a point not final: provisional, mid-year, or an aggregate not every expected unit has reported to (集計中)
        p.provisional is not null or p.as_of <> fiscal_year_end(p.fiscal_year) or p.aggregating as provisional_point
    from standing as s
    join progress as p on p.kpi_id = s.kpi_id and p.fiscal_year <= s.report_fy and p.fiscal_year > s.b_fy
),
fit as (
    select
        report_fy, kpi_id, count(*) as points,
        -- one point has no line (DuckDB gives NaN, not NULL)
        case when count(*) >= 2 then regr_slope(value, x) end as slope,
        case when count(*) >= 2 then regr_intercept(value, x) end as intercept,
        bool_or(provisional_point) as includes_provisional
    from points
    group by report_fy, kpi_id
),
first_reached as (
    -- the first year whose actual reached the target of the standing's definition
    select s.report_fy, s.kpi_id, min(p.fiscal_year) as fiscal_year
    from standing as s
    join progress as p on p.kpi_id = s.kpi_id and p.fiscal_year <= s.report_fy
    where reached_target(s.direction, p.actual_value, s.t)
    group by all
),
joined as (
    select
        s.report_fy, s.kpi_id, s.direction, s.b, s.b_fy, s.t, s.t_fy, s.definition_fy, s.version,
        s.latest_fy, s.latest_value,
        coalesce(reached_target(s.direction, s.latest_value, s.t), false) as reached,
        coalesce(f.points, 0) as points, f.slope, f.intercept,
        coalesce(f.includes_provisional, false) as includes_provisional,
        r.fiscal_year as first_reached_fy,
        round(f.slope, 6) as trend,
        s.b is null or s.b_fy is null or s.t is null or s.t_fy is null or coalesce(f.points, 0) < 2 as unknowable
    from standing as s
    left join fit as f on f.report_fy = s.report_fy and f.kpi_id = s.kpi_id
    left join first_reached as r on r.report_fy = s.report_fy and r.kpi_id = s.kpi_id
),
projected as (
    select
        *,
        case when not unknowable then round(intercept + slope * (t_fy - b_fy), 6) end as at_target,
        case when not unknowable and latest_fy < t_fy then round((t - latest_value) / (t_fy - latest_fy), 6) end
            as required,
        -- the first fiscal year from the latest on whose fitted value meets the target, up to ten years late
        case when not unknowable then (
            select min(fy) from range(latest_fy, t_fy + 11) as years (fy)
            where reached_target(direction, round(intercept + slope * (fy - b_fy), 6), t)
        ) end as fitted_reach_fy
    from joined
),
classified as (
    select
        p.*,
        case
            when reached then '目標達成'
            when unknowable then '評価不能'
            when latest_fy >= t_fy then '未達成'
            when trend * (t - latest_value) < 0 then '悪化'
            when round(trend / required, 6) >= c.outlook_on_track then '達成見込み'
            when round(trend / required, 6) >= c.outlook_accelerate then '要加速'
            else '達成困難'
        end as outlook
    from projected as p
    cross join settings as c
),
final as (
    select
        report_fy,
        kpi_id,
        latest_fy,
        points,
        trend as trend_per_year,
        at_target as projected_at_target,
        case when outlook = '目標達成' then first_reached_fy else fitted_reach_fy end as projected_reach_fy,
        case when outlook in ('達成見込み', '要加速', '達成困難') then required end as required_per_year,
        case when outlook in ('達成見込み', '要加速', '達成困難') then round(trend / required, 6) end as pace_ratio,
        outlook,
        includes_provisional,
        definition_fy,
        version,
        t as target_value,
        t_fy as target_fy
    from classified
)
select * from final;

comment on view kpi_year_outlook is '報告年度ごとの見通し: その年度までの実績で求めた kpi_outlook(報告書で過去の年度を表示するとき用)。最新の実績の年度に効力のある定義で判定し、後の年度からの改定は使わない';
comment on column kpi_year_outlook.report_fy is '報告の対象年度(西暦)';
comment on column kpi_year_outlook.kpi_id is '指標ID';
comment on column kpi_year_outlook.latest_fy is '報告年度までで最新の実績の年度';
comment on column kpi_year_outlook.points is '直線の当てはめに使った点の数(基準値を含む)';
comment on column kpi_year_outlook.trend_per_year is '傾向: 最小二乗法の直線の傾き(1年あたりの変化)';
comment on column kpi_year_outlook.projected_at_target is '直線の目標年度における値';
comment on column kpi_year_outlook.projected_reach_fy is '達成見込年度: 直線が目標値に届く最初の年度(目標達成なら実績が初めて届いた年度。目標年度+10年までに届かなければ NULL)';
comment on column kpi_year_outlook.required_per_year is '必要なペース: (目標値−最新の実績)÷(目標年度−最新の実績の年度)';
comment on column kpi_year_outlook.pace_ratio is 'ペース比: 傾向÷必要なペース';
comment on column kpi_year_outlook.outlook is '見通し(目標達成・達成見込み・要加速・達成困難・悪化・未達成・評価不能)';
comment on column kpi_year_outlook.includes_provisional is '点に速報・見込・暫定、年度途中の値または集計中の値を含むか';
comment on column kpi_year_outlook.definition_fy is '判定に使った定義の年度: 最新の実績の年度(実績がなければ報告年度)。その年度に効力のある基準値・目標値で判定する';
comment on column kpi_year_outlook.version is '判定に使った定義の版番号(kpi_definitions.version)';
comment on column kpi_year_outlook.target_value is '判定に使った目標値';
comment on column kpi_year_outlook.target_fy is '判定に使った目標年度';
