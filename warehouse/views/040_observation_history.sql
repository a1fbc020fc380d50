-- observation_history: every version of every reported value (SCD type 2) with its lineage.
create or replace view observation_history as
with raw_observations as (select * from raw_observations),
accepted as (select * from accepted_submissions()),
confirmed_versions as (select * from raw_confirmed_versions),
standing as (select confirmation_id from standing_confirmations()),
joined as (
    select
        o.kpi_id, o.fiscal_year, o.as_of, o.actual_value, o.submission_id,
        o.source_sheet, o.source_cell, o.raw_value, o.note, o.provisional,
        s.received_at, s.department, s.file_name, s.sha256, s.archive_path
    from raw_observations as o
    join accepted as s on s.submission_id = o.submission_id
),
-- the versions the standing confirmation of their department and year holds
confirmed as (
    select v.submission_id, v.item_id, v.fiscal_year, v.as_of
    from confirmed_versions as v
    join standing as c on c.confirmation_id = v.confirmation_id
    where v.kind = 'observation'
),
versioned as (
    select
        *,
        received_at as valid_from,
        version_valid_to(received_at, {'kpi_id': kpi_id, 'fiscal_year': fiscal_year, 'as_of': as_of}, submission_id)
            as valid_to,
        version_number({'kpi_id': kpi_id, 'fiscal_year': fiscal_year, 'as_of': as_of}, submission_id) as version
    from joined
),
final as (
    select
        kpi_id, fiscal_year, as_of, actual_value, submission_id,
        cell_ref(source_sheet, source_cell) as source_cell,
        valid_from, valid_to, version,
        department, file_name, sha256, archive_path, raw_value, note, provisional,
        case when exists (select 1 from confirmed as f where f.submission_id = versioned.submission_id
                          and f.item_id = versioned.kpi_id and f.fiscal_year = versioned.fiscal_year
                          and f.as_of = versioned.as_of) then '確定' else '未確定' end as value_status
    from versioned
)
select * from final;

comment on view observation_history is '実績の履歴: 再提出で置き換わった値も含む全版(valid_to が NULL なら現行)と出典';
comment on column observation_history.kpi_id is '指標ID';
comment on column observation_history.fiscal_year is '年度(西暦)';
comment on column observation_history.as_of is '時点(記入がなければ年度末の3月31日)';
comment on column observation_history.actual_value is '実績値(指標の単位)';
comment on column observation_history.submission_id is '提出番号';
comment on column observation_history.source_cell is '出典セル(シート!セル)';
comment on column observation_history.valid_from is 'この版の有効開始(受付日時)';
comment on column observation_history.valid_to is 'この版の有効終了(次の版の受付日時。現行版は NULL)';
comment on column observation_history.version is '版番号(1から)';
comment on column observation_history.department is '提出部局';
comment on column observation_history.file_name is '提出時のファイル名';
comment on column observation_history.sha256 is '原本のSHA-256';
comment on column observation_history.archive_path is '原本の保管場所';
comment on column observation_history.raw_value is 'セルに記入されていた値';
comment on column observation_history.note is '備考';
comment on column observation_history.provisional is '速報・見込・暫定の別(実績値の後の括弧書き。確定値なら NULL)';
comment on column observation_history.value_status is '確定=その部局・年度の現在有効な確定に含まれる版, 未確定=それ以外';
