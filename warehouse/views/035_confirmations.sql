-- confirmations: every confirmation (確定) of a department's fiscal year by the DX office, reopened ones included.
create or replace view confirmations as
with confirmed as (select * from raw_confirmations),
reopened as (select * from raw_reopenings),
standing as (select confirmation_id from standing_confirmations()),
final as (
    select
        c.department,
        c.fiscal_year,
        c.confirmed_at,
        c.confirmed_by,
        c.note,
        c.missing_kpi_ids,
        r.reopened_at,
        r.reopened_by,
        r.reason as reopen_reason,
        c.confirmation_id,
        c.provisional_kpi_ids,
        s.confirmation_id is not null as is_standing,
        coalesce(c.computed_kpi_ids, []::varchar[]) as computed_kpi_ids,
        coalesce(c.missing_local_governments, []::varchar[]) as missing_local_governments
    from confirmed as c
    left join reopened as r on r.confirmation_id = c.confirmation_id
    left join standing as s on s.confirmation_id = c.confirmation_id
)
select * from final;

comment on view confirmations is '確定の記録: 部局・年度ごとにDX推進担当が確定した記録(解除されたものも含む。1行に1回の確定)。所管する構成要素から計算する指標があれば、団体の件数も確定する';
comment on column confirmations.department is '部局';
comment on column confirmations.fiscal_year is '年度(西暦)';
comment on column confirmations.confirmed_at is '確定日時(日本時間)';
comment on column confirmations.confirmed_by is '確定した人';
comment on column confirmations.note is '備考';
comment on column confirmations.missing_kpi_ids is '確定時に未報告だった指標ID';
comment on column confirmations.reopened_at is '確定を解除した日時(解除されていなければ NULL)';
comment on column confirmations.reopened_by is '確定を解除した人';
comment on column confirmations.reopen_reason is '確定を解除した理由';
comment on column confirmations.confirmation_id is '確定番号';
comment on column confirmations.provisional_kpi_ids is '確定時に速報・見込・暫定の値だった指標ID';
comment on column confirmations.is_standing is '現在有効な確定か(その部局・年度の最新の確定で、解除されていない)';
comment on column confirmations.computed_kpi_ids is '確定した構成要素から計算する指標ID(その年度にこの部局が所管し、計算ルールが効力をもつ指標。団体の件数を確定)';
comment on column confirmations.missing_local_governments is '確定時に件数が未提出だった団体のコード(--allow-missing で確定したとき)';
