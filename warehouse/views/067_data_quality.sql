-- data_quality: warnings on accepted returns, by the fiscal year each return declares (the report's データ品質).
create or replace view data_quality as
with accepted as (select * from accepted_submissions()),
issues as (select * from validation_issues where severity = 'warning'),
final as (
    select
        s.declared_fiscal_year as fiscal_year,
        s.submission_id,
        s.department,
        s.file_name,
        i.sheet,
        i.cell,
        i.kpi_id,
        i.code,
        i.message
    from issues as i
    join accepted as s using (submission_id)
)
select * from final;

comment on view data_quality is 'データ品質: 受理した報告に付いた警告(確認が必要な値)。報告様式が申告する年度ごと';
comment on column data_quality.fiscal_year is '報告様式が申告する年度(申告がなければ NULL: どの年度の報告書にも載せる)';
comment on column data_quality.submission_id is '提出番号';
comment on column data_quality.department is '提出部局';
comment on column data_quality.file_name is 'ファイル名';
comment on column data_quality.sheet is 'シート';
comment on column data_quality.cell is 'セル';
comment on column data_quality.kpi_id is '指標ID';
comment on column data_quality.code is '警告のコード';
comment on column data_quality.message is '内容';
