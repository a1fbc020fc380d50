-- warehouse_fingerprint: what the reference data and views were last built from (the report and site compare it with the catalogue and settings in force).
create or replace view warehouse_fingerprint as
with built as (select * from cfg_fingerprint),
final as (select fingerprint from built)
select * from final;

comment on view warehouse_fingerprint is 'ウェアハウスの作成元: 最後の取込(run)が参照データとビューを作ったときの指標一覧・設定・ビュー定義の指紋(報告書・サイトが現在のものと比べる)';
comment on column warehouse_fingerprint.fingerprint is '指標一覧・設定・ビュー定義の指紋(SHA-256)';
