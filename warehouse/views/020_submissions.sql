-- submissions: every workbook seen in the inbox, with its fate.
create or replace view submissions as
with raw_submissions as (select * from raw_submissions),
final as (
    select
        submission_id,
        department,
        file_name,
        sha256,
        received_at,
        status,
        error_count,
        warning_count,
        archive_path,
        ingested_at,
        run_id,
        declared_department,
        declared_fiscal_year,
        duplicate_of
    from raw_submissions
)
select * from final;

comment on view submissions is '提出: 受け取ったブック1件ごとの記録(受理・差戻し・重複)';
comment on column submissions.submission_id is '提出番号(受付順)';
comment on column submissions.department is '提出した部局(inbox のフォルダ名)';
comment on column submissions.file_name is '提出時のファイル名';
comment on column submissions.sha256 is 'ファイル内容のSHA-256';
comment on column submissions.received_at is '受付日時(ファイルの更新日時、日本時間)';
comment on column submissions.status is '結果: accepted=受理, rejected=差戻し, duplicate=重複';
comment on column submissions.error_count is 'エラー件数';
comment on column submissions.warning_count is '警告件数';
comment on column submissions.archive_path is '原本の保管場所(ウェアハウスのフォルダからの相対パス)';
comment on column submissions.ingested_at is '取込日時(日本時間)';
comment on column submissions.run_id is '取込実行の番号';
comment on column submissions.declared_department is 'ブックに記録された部局';
comment on column submissions.declared_fiscal_year is 'ブックに記録された年度';
comment on column submissions.duplicate_of is '重複の場合、同一内容の元の提出番号';
