-- kpi_aggregates: a computed KPI per fiscal year for the prefecture as a whole, each region and each named group:
-- Σ numerator ÷ Σ denominator of the units that reported (a ratio of sums, never an average of rates), and coverage.
create or replace view kpi_aggregates as
with unit_values as (select * from local_government_values),
memberships as (select * from ref_local_government_groups),
scoped as (
    select '県全体' as scope_kind, '県全体' as scope, v.* from unit_values as v
    union all
    select '地方', v.region, v.* from unit_values as v where v.region is not null
    union all
    select 'グループ', m.group_name, v.*
    from unit_values as v
    join memberships as m on m.code = v.code and valid_in(v.fiscal_year, m.valid_from_fy, m.valid_to_fy)
),
-- what each reporting unit weighs in a year: its denominator (its addends under the sum rule)
weighed as (
    select *, case when reported then (case when rule = 'sum' then numerator else denominator end) end as weight
    from scoped
),
last_year_totals as (
    select scope_kind, scope, kpi_id, fiscal_year + 1 as fiscal_year, sum(weight) as total
    from weighed
    group by all
),
summed as (
    select
        w.scope_kind, w.scope, w.kpi_id, w.fiscal_year,
        any_value(w.rule) as rule,
        any_value(w.factor) as factor,
        sum(w.numerator) filter (where w.reported) as numerator,
        sum(w.denominator) filter (where w.reported) as denominator,
        count(*) filter (where w.reported) as units_reported,
        count(*) as units_expected,
        max(w.as_of) filter (where w.reported) as as_of,
        max(w.provisional) filter (where w.reported) as provisional,
        bool_and(w.value_status = '確定') filter (where w.reported) as all_confirmed,
        -- last year's weight of the units reporting this year
        sum(l.weight) filter (where w.reported) as held
    from weighed as w
    left join weighed as l
        on l.scope_kind = w.scope_kind and l.scope = w.scope and l.kpi_id = w.kpi_id
        and l.fiscal_year = w.fiscal_year - 1 and l.code = w.code
    group by all
),
final as (
    select
        s.kpi_id,
        s.fiscal_year,
        s.scope_kind,
        s.scope,
        s.numerator,
        s.denominator,
        computed_value(s.rule, s.numerator, s.denominator, s.factor) as value,
        s.units_reported,
        s.units_expected,
        s.units_reported = s.units_expected as complete,
        coalesce(s.held, 0) / nullif(t.total, 0) as share_of_last_year,
        s.as_of,
        s.provisional,
        case when s.units_reported > 0 and s.all_confirmed then '確定' else '未確定' end as value_status,
        s.rule,
        s.factor
    from summed as s
    left join last_year_totals as t
        on t.scope_kind = s.scope_kind and t.scope = s.scope and t.kpi_id = s.kpi_id and t.fiscal_year = s.fiscal_year
)
select * from final;

comment on view kpi_aggregates is '構成要素から計算する指標の集計: 指標・年度ごとに県全体・地方・グループ別の分子の合計÷分母の合計(団体ごとの率の平均ではない)と、報告した団体数。全団体がそろうまでは集計中';
comment on column kpi_aggregates.kpi_id is '指標ID';
comment on column kpi_aggregates.fiscal_year is '年度(西暦)';
comment on column kpi_aggregates.scope_kind is '集計の範囲の種類: 県全体・地方・グループ';
comment on column kpi_aggregates.scope is '集計の範囲: 県全体、地方名(県北など)、グループ名(避難地域12市町村など)';
comment on column kpi_aggregates.numerator is '報告した団体の分子の合計(sum ルールでは加算の合計)';
comment on column kpi_aggregates.denominator is '報告した団体の分母の合計(sum ルールでは NULL)';
comment on column kpi_aggregates.value is '値: 分子の合計÷分母の合計×倍率(sum ルールでは加算の合計×倍率)。報告がないか分母の合計が0なら NULL';
comment on column kpi_aggregates.units_reported is '報告した団体数(0件中0件の報告も数える)';
comment on column kpi_aggregates.units_expected is '報告すべき団体数';
comment on column kpi_aggregates.complete is '報告すべき団体がすべて報告したか(false なら集計中)';
comment on column kpi_aggregates.share_of_last_year is '報告した団体が前年度の分母の合計に占めていた割合(sum ルールでは加算。前年度の報告がなければ NULL)';
comment on column kpi_aggregates.as_of is '報告した団体の件数の最新の時点';
comment on column kpi_aggregates.provisional is '報告した団体の件数に速報・見込・暫定があればその別(すべて確定値なら NULL)';
comment on column kpi_aggregates.value_status is '確定=報告した団体の件数がすべて確定済み, 未確定=それ以外';
comment on column kpi_aggregates.rule is 'その年度の計算ルール(ratio_of_sums・sum)';
comment on column kpi_aggregates.factor is 'その年度の倍率';
