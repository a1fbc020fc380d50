-- audit_log: every run, confirmation and reopening, and each catalogue a run saw first, with who and when (append-only).
create or replace view audit_log as
with events as (select * from raw_audit_log),
final as (
    select event_id, occurred_at, action, actor, department, fiscal_year, run_id, confirmation_id, detail, catalogue_fingerprint
    from events
)
select * from final;

comment on view audit_log is '操作の記録: 取込・確定・確定の解除と、取込が初めて見た指標一覧(追記のみ。書き換えない)';
comment on column audit_log.event_id is '記録番号(順番)';
comment on column audit_log.occurred_at is '日時(日本時間)';
comment on column audit_log.action is '操作: run=取込, confirm=確定, reopen=確定の解除, catalogue=指標一覧の変更';
comment on column audit_log.actor is '操作した人(確定・解除は --by、なければOSのユーザー)';
comment on column audit_log.department is '部局(確定・解除)';
comment on column audit_log.fiscal_year is '年度(確定・解除)';
comment on column audit_log.run_id is '取込実行の番号';
comment on column audit_log.confirmation_id is '確定番号';
comment on column audit_log.detail is '内容(件数など)';
comment on column audit_log.catalogue_fingerprint is '指標一覧・設定・ビュー定義の指紋(catalogue のとき)';
