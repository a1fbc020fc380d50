-- local_government_values: each expected local government's counts and rate for a computed KPI and fiscal year, with
-- the file and cells they came from; one row per expected unit and year, reported or not.
create or replace view local_government_values as
with reporters as (select * from kpi_reporters),
components as (select * from ref_kpi_components),
history as (select * from component_history),
current_counts as (select * from history where valid_to is null),
-- a local government's survey sheets (not a copy of an accepted one), by the fiscal year each declares
survey_sheets as (
    select * from raw_submissions
    where local_government is not null and declared_fiscal_year is not null and status <> 'duplicate'
),
-- its latest survey sheet of a fiscal year, where that one was rejected (差戻し): nothing accepted since
rejected_sheets as (
    select local_government, declared_fiscal_year as fiscal_year, submission_id
    from survey_sheets
    qualify submission_id = max(submission_id) over (partition by local_government, declared_fiscal_year)
        and status = 'rejected'
),
-- the components each computed KPI is computed from in each year its rule is in force
in_force as (
    select y.kpi_id, y.fiscal_year, c.component_id, c.role
    from (select distinct kpi_id, fiscal_year from reporters) as y
    join components as c on c.kpi_id = y.kpi_id and valid_in(y.fiscal_year, c.valid_from_fy, c.valid_to_fy)
),
expected_components as (select kpi_id, fiscal_year, count(*) as components from in_force group by all),
counts as (
    select h.*, f.role
    from current_counts as h
    join in_force as f using (kpi_id, fiscal_year, component_id)
),
-- several 時点 in one year: the unit's latest counts
at_latest as (
    select * from counts
    qualify as_of = max(as_of) over (partition by local_government, kpi_id, fiscal_year)
),
per_unit as (
    select
        local_government, kpi_id, fiscal_year, as_of,
        sum(count) filter (where role in ('numerator', 'addend')) as numerator,
        sum(count) filter (where role = 'denominator') as denominator,
        count(distinct component_id) as components_reported,
        max(provisional) as provisional,
        max(submission_id) as submission_id,
        arg_max(file_name, submission_id) as file_name,
        max(valid_from) as received_at,
        bool_and(value_status = '確定') as confirmed,
        string_agg(source_cell, '、' order by component_id) filter (where role in ('numerator', 'addend'))
            as numerator_cell,
        string_agg(source_cell, '、' order by component_id) filter (where role = 'denominator') as denominator_cell
    from at_latest
    group by all
),
joined as (
    select
        r.kpi_id, r.fiscal_year, r.code, r.name, r.kind, r.region, r.rule, r.factor, r.owner,
        u.numerator, u.denominator, u.as_of, u.provisional, u.submission_id, u.file_name, u.numerator_cell,
        u.denominator_cell, u.received_at, u.confirmed,
        coalesce(u.components_reported = e.components, false) as reported,
        x.submission_id as rejected_submission_id
    from reporters as r
    left join per_unit as u on u.local_government = r.code and u.kpi_id = r.kpi_id and u.fiscal_year = r.fiscal_year
    left join expected_components as e on e.kpi_id = r.kpi_id and e.fiscal_year = r.fiscal_year
    left join rejected_sheets as x on x.local_government = r.code and x.fiscal_year = r.fiscal_year
),
final as (
    select
        j.kpi_id,
        j.fiscal_year,
        j.code,
        j.name,
        j.kind,
        j.region,
        j.numerator,
        j.denominator,
        computed_value(j.rule, j.numerator, j.denominator, j.factor) as value,
        j.reported,
        j.as_of,
        j.provisional,
        j.submission_id,
        j.file_name,
        j.numerator_cell,
        j.denominator_cell,
        j.received_at,
        j.rule,
        j.factor,
        -- confirmed: every count the rate is computed from is a version a standing confirmation recorded
        case when j.reported and j.confirmed then '確定' else '未確定' end as value_status,
        -- 提出済: reported; 差戻し: not reported, its latest survey sheet of the year rejected; 未提出: no sheet
        case when j.reported then '提出済' when j.rejected_submission_id is not null then '差戻し' else '未提出' end
            as sheet_status,
        j.rejected_submission_id
    from joined as j
)
select * from final;

comment on view local_government_values is '団体ごとの値: 構成要素から計算する指標の、報告すべき団体・年度ごとの分子・分母・率と出典(未報告の団体も1行)';
comment on column local_government_values.kpi_id is '指標ID';
comment on column local_government_values.fiscal_year is '年度(西暦)';
comment on column local_government_values.code is '全国地方公共団体コード(6桁)';
comment on column local_government_values.name is '団体名';
comment on column local_government_values.kind is '種別: 県・市・町・村';
comment on column local_government_values.region is '地方(県は NULL)';
comment on column local_government_values.numerator is '分子の件数(sum ルールでは加算の合計。その年度の最新の時点、現行版)';
comment on column local_government_values.denominator is '分母の件数(sum ルールでは NULL)';
comment on column local_government_values.value is 'この団体の率: 分子÷分母×倍率(sum ルールでは加算×倍率)。0件中0件なら NULL(報告済みとして数える)';
comment on column local_government_values.reported is '報告済みか(その年度の構成要素をすべて報告した)';
comment on column local_government_values.as_of is '件数の時点(その年度の現行版で最新の時点)';
comment on column local_government_values.provisional is '速報・見込・暫定の別(確定値なら NULL)';
comment on column local_government_values.submission_id is '件数の出典の提出番号(複数なら最新)';
comment on column local_government_values.file_name is '出典のファイル名';
comment on column local_government_values.numerator_cell is '分子の出典セル(シート!セル。sum ルールでは加算)';
comment on column local_government_values.denominator_cell is '分母の出典セル(シート!セル)';
comment on column local_government_values.received_at is '受付日時(最新の件数の)';
comment on column local_government_values.rule is 'その年度の計算ルール(ratio_of_sums・sum)';
comment on column local_government_values.factor is 'その年度の倍率';
comment on column local_government_values.value_status is '確定=率を計算した件数がすべて、現在有効な確定(所管部局のその年度の確定)が記録した版, 未確定=それ以外(未報告も)';
comment on column local_government_values.sheet_status is '調査票の状況: 提出済=報告済み, 差戻し=未報告で、その年度の最新の調査票を差し戻した(その後に受理した調査票がない), 未提出=未報告で、差し戻した調査票もない';
comment on column local_government_values.rejected_submission_id is 'その年度のこの団体の最新の調査票が差戻しなら、その提出番号(validation_issues にエラー。報告済みでも、その後の調査票を差し戻していれば入る)';
