-- kpi_outlook: 見通し: will each KPI reach its target by the target year at its present trend, and if not, when.
create or replace view kpi_outlook as
with outlook as (select * from kpi_year_outlook),
final as (
    select
        kpi_id, latest_fy, points, trend_per_year, projected_at_target, projected_reach_fy,
        required_per_year, pace_ratio, outlook, includes_provisional
    from outlook
    where report_fy = (select max(report_fy) from outlook)
)
select * from final;

comment on view kpi_outlook is '見通し: 基準値と各年度の実績に当てはめた直線(最小二乗法)で、目標年度までに目標値に届くか、届くのは何年度か';
comment on column kpi_outlook.kpi_id is '指標ID';
comment on column kpi_outlook.latest_fy is '最新の実績の年度(実績がなければ NULL)';
comment on column kpi_outlook.points is '直線の当てはめに使った点の数(基準値を含む)';
comment on column kpi_outlook.trend_per_year is '傾向: 最小二乗法の直線の傾き(1年あたりの変化。x=年度−基準年度)';
comment on column kpi_outlook.projected_at_target is '直線の目標年度における値';
comment on column kpi_outlook.projected_reach_fy is '達成見込年度: 最新の実績の年度以降で直線が目標値に届く最初の年度(目標達成なら実績が初めて届いた年度。目標年度+10年までに届かなければ NULL)';
comment on column kpi_outlook.required_per_year is '必要なペース: (目標値−最新の実績)÷(目標年度−最新の実績の年度)。達成見込み・要加速・達成困難のときだけ';
comment on column kpi_outlook.pace_ratio is 'ペース比: 傾向÷必要なペース。1.0以上で達成見込み、0.6以上で要加速(設定 [outlook])';
comment on column kpi_outlook.outlook is '見通し(目標達成・評価不能・未達成・悪化・達成見込み・要加速・達成困難の順に判定)';
comment on column kpi_outlook.includes_provisional is '点に速報・見込・暫定、年度途中の値または集計中の値を含むか';
