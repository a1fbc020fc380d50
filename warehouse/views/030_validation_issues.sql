-- validation_issues: every problem found in a submission, located by sheet and cell.
create or replace view validation_issues as
with raw_validation_issues as (select * from raw_validation_issues),
final as (
    select submission_id, sheet, cell, kpi_id, severity, code, message, fix
    from raw_validation_issues
)
select * from final;

comment on view validation_issues is '検証結果: 提出ごとのエラー・警告(シート・セル位置つき)';
comment on column validation_issues.submission_id is '提出番号';
comment on column validation_issues.sheet is 'シート名';
comment on column validation_issues.cell is 'セル(A1形式)';
comment on column validation_issues.kpi_id is '指標ID';
comment on column validation_issues.severity is '重要度: error=差戻し, warning=警告(受理)';
comment on column validation_issues.code is 'エラーコード';
comment on column validation_issues.message is 'メッセージ';
comment on column validation_issues.fix is '直し方';
