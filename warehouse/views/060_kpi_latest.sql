-- kpi_latest: where every KPI stands now, from its latest fiscal year with an actual.
create or replace view kpi_latest as
with plan_kpis as (select * from ref_kpis),
progress as (select * from kpi_progress),
bands as (select * from grade_bands),
latest as (
    select * from progress
    qualify row_number() over (partition by kpi_id order by fiscal_year desc) = 1
),
final as (
    select
        k.kpi_id,
        l.fiscal_year as latest_fy,
        l.actual_value,
        l.progress_rate,
        l.pace_rate,
        l.grade,
        case
            when l.kpi_id is null then '実績未報告'
            when l.reached_target then '目標達成'
            when l.grade is not null then g.label
            -- the definition in force in the latest actual's year, as its grade
            when l.baseline_value_in_force is null then '評価不能(基準値不明)'
            when l.target_fy_in_force is null then '評価不能(目標年度不明)'
            when l.fiscal_year <= l.baseline_fy_in_force then '評価不能(基準年度の実績)'
            else '評価不能'
        end as status,
        l.provisional,
        l.value_source,
        l.units_reported,
        l.units_expected,
        l.aggregating
    from plan_kpis as k
    left join latest as l on l.kpi_id = k.kpi_id
    left join bands as g on g.grade = l.grade
)
select * from final;

comment on view kpi_latest is '指標の現況: すべての指標について、実績のある最新年度の進捗と評価';
comment on column kpi_latest.kpi_id is '指標ID';
comment on column kpi_latest.latest_fy is '実績のある最新の年度(西暦)';
comment on column kpi_latest.actual_value is 'その年度の実績値';
comment on column kpi_latest.progress_rate is '進捗率';
comment on column kpi_latest.pace_rate is 'ペース(軌道比)';
comment on column kpi_latest.grade is '評価(A〜D)';
comment on column kpi_latest.status is '状況(目標達成・順調・おおむね順調・やや遅れ・遅れ・評価不能・実績未報告)';
comment on column kpi_latest.provisional is '最新の実績値の速報・見込・暫定の別(確定値なら NULL)';
comment on column kpi_latest.value_source is '最新の実績値の出所: 集計=市町村等の件数の集計, 部局報告=所管部局が報告した値(実績がなければ NULL)';
comment on column kpi_latest.units_reported is '集計に含む報告した団体数(集計値のときだけ)';
comment on column kpi_latest.units_expected is '報告すべき団体数(集計値のときだけ)';
comment on column kpi_latest.aggregating is '集計中か: 報告すべき団体がそろっていない集計値なら true(実績がなければ NULL)';
