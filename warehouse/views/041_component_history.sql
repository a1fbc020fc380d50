-- component_history: every version of every count a local government reported for a computed KPI (SCD type 2), with
-- its lineage; a resubmitted survey sheet supersedes a count as a resubmitted return supersedes a department's value.
create or replace view component_history as
with raw_component_counts as (select * from raw_component_counts),
accepted as (select * from accepted_submissions()),
confirmed_versions as (select * from raw_confirmed_versions),
standing as (select confirmation_id from standing_confirmations()),
-- the counts a standing confirmation holds: the owning department's year confirmed with these versions
confirmed as (
    select v.submission_id, v.item_id, v.component_id, v.fiscal_year, v.as_of
    from confirmed_versions as v
    join standing as c on c.confirmation_id = v.confirmation_id
    where v.kind = 'component'
),
joined as (
    select
        c.local_government, c.kpi_id, c.component_id, c.fiscal_year, c.as_of, c.count, c.submission_id,
        c.source_sheet, c.source_cell, c.raw_value, c.note, c.provisional,
        s.received_at, s.ingested_at, s.department, s.file_name, s.sha256, s.archive_path
    from raw_component_counts as c
    join accepted as s on s.submission_id = c.submission_id
),
versioned as (
    select
        *,
        received_at as valid_from,
        version_valid_to(received_at, {'local_government': local_government, 'kpi_id': kpi_id,
            'component_id': component_id, 'fiscal_year': fiscal_year, 'as_of': as_of}, submission_id) as valid_to,
        version_number({'local_government': local_government, 'kpi_id': kpi_id, 'component_id': component_id,
            'fiscal_year': fiscal_year, 'as_of': as_of}, submission_id) as version
    from joined
),
final as (
    select
        local_government, kpi_id, component_id, fiscal_year, as_of, count, submission_id,
        cell_ref(source_sheet, source_cell) as source_cell,
        valid_from, valid_to, version,
        department, file_name, sha256, archive_path, raw_value, note, provisional, ingested_at,
        case when exists (select 1 from confirmed as f where f.submission_id = versioned.submission_id
                          and f.item_id = versioned.kpi_id and f.component_id = versioned.component_id
                          and f.fiscal_year = versioned.fiscal_year and f.as_of = versioned.as_of)
             then '確定' else '未確定' end as value_status
    from versioned
)
select * from final;

comment on view component_history is '構成要素の件数の履歴: 市町村等が調査票で報告した件数の全版(再提出で置き換わった版も含む。valid_to が NULL なら現行)と出典。団体・指標・構成要素・年度・時点ごと';
comment on column component_history.local_government is '報告した団体の全国地方公共団体コード(6桁)';
comment on column component_history.kpi_id is '指標ID';
comment on column component_history.component_id is '構成要素ID(kpi_components)';
comment on column component_history.fiscal_year is '年度(西暦)';
comment on column component_history.as_of is '時点(記入がなければ年度末の3月31日)';
comment on column component_history.count is '件数(構成要素の単位)';
comment on column component_history.submission_id is '提出番号';
comment on column component_history.source_cell is '出典セル(シート!セル)';
comment on column component_history.valid_from is 'この版の有効開始(受付日時)';
comment on column component_history.valid_to is 'この版の有効終了(同じ団体の次の版の受付日時。現行版は NULL)';
comment on column component_history.version is '版番号(1から)';
comment on column component_history.department is '提出したフォルダ(団体名)';
comment on column component_history.file_name is '提出時のファイル名';
comment on column component_history.sha256 is '原本のSHA-256';
comment on column component_history.archive_path is '原本の保管場所';
comment on column component_history.raw_value is 'セルに記入されていた値';
comment on column component_history.note is '備考';
comment on column component_history.provisional is '速報・見込・暫定の別(件数の後の括弧書き。確定値なら NULL)';
comment on column component_history.ingested_at is '取込日時(日本時間)';
comment on column component_history.value_status is '確定=現在有効な確定(所管部局のその年度の確定)が記録したこの版, 未確定=それ以外';
