-- kpi_explanations: each department's 要因分析 and 今後の方向性 per KPI and fiscal year, every version with its lineage.
create or replace view kpi_explanations as
with raw_explanations as (select * from raw_explanations),
accepted as (select * from accepted_submissions()),
per_submission as (
    -- where a return has several 時点 for a KPI and year, the row with the latest 時点 speaks for it
    select e.*, s.received_at, s.department
    from raw_explanations as e
    join accepted as s using (submission_id)
    qualify row_number() over (
        partition by e.kpi_id, e.fiscal_year, e.submission_id order by e.as_of desc, e.row_order desc) = 1
),
versioned as (
    select
        *,
        received_at as valid_from,
        version_valid_to(received_at, {'kpi_id': kpi_id, 'fiscal_year': fiscal_year}, submission_id) as valid_to,
        version_number({'kpi_id': kpi_id, 'fiscal_year': fiscal_year}, submission_id) as version
    from per_submission
),
final as (
    select
        kpi_id,
        fiscal_year,
        factor_analysis,
        future_direction,
        submission_id,
        cell_ref(source_sheet, source_cell) as source_cell,
        valid_from,
        valid_to,
        version,
        as_of,
        department
    from versioned
)
select * from final;

comment on view kpi_explanations is '要因分析・今後の方向性: 部局が報告様式に記入した説明。指標・年度ごとに全版(最新の提出が空欄でもその版が現行。valid_to が NULL なら現行)';
comment on column kpi_explanations.kpi_id is '指標ID';
comment on column kpi_explanations.fiscal_year is '年度(西暦)';
comment on column kpi_explanations.factor_analysis is '要因分析: 実績がこの値になった理由(空欄なら NULL)';
comment on column kpi_explanations.future_direction is '今後の方向性: 部局の今後の取組(空欄なら NULL)';
comment on column kpi_explanations.submission_id is '提出番号';
comment on column kpi_explanations.source_cell is '出典セル(シート!セル。要因分析の欄)';
comment on column kpi_explanations.valid_from is 'この版の有効開始(受付日時)';
comment on column kpi_explanations.valid_to is 'この版の有効終了(次の版の受付日時。現行版は NULL)';
comment on column kpi_explanations.version is '版番号(1から)';
comment on column kpi_explanations.as_of is '説明を記入した行の時点(同じ年度に複数の時点があれば最新の時点の行)';
comment on column kpi_explanations.department is '提出部局';
