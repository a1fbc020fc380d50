-- initiative_outcomes: what each initiative did and achieved per fiscal year, from the seed and from submissions, with history.
create or replace view initiative_outcomes as
with seed as (select * from ref_seed_outcomes),
raw_outcomes as (select * from raw_outcomes),
accepted as (select * from accepted_submissions()),
submitted as (
    select
        o.initiative_id, o.fiscal_year, o.as_of, o.outcome_text, o.figure_value, o.figure_unit,
        'submission' as source, o.submission_id, o.activities,
        cell_ref(o.source_sheet, o.source_cell) as source_cell, s.received_at as valid_from, o.row_order,
        null::varchar as label, s.sha256, s.archive_path
    from raw_outcomes as o
    join accepted as s on s.submission_id = o.submission_id
),
seeded as (
    select
        initiative_id, fiscal_year, coalesce(as_of, fiscal_year_end(fiscal_year)) as as_of, outcome_text,
        figure_value, figure_unit, 'seed' as source, null::bigint as submission_id, null::varchar as activities,
        null::varchar as source_cell, null::timestamp as valid_from, row_order, label, null::varchar as sha256,
        null::varchar as archive_path
    from seed
),
unioned as (select * from seeded union all by name select * from submitted),
-- a report of an initiative for a year replaces the earlier one as a whole (the seed's, or an older submission's)
versions as (
    select distinct initiative_id, fiscal_year, coalesce(submission_id, 0) as version_key, valid_from
    from unioned
),
ranked as (
    select
        *,
        version_valid_to(valid_from, {'initiative_id': initiative_id, 'fiscal_year': fiscal_year}, version_key) as valid_to,
        is_current_version({'initiative_id': initiative_id, 'fiscal_year': fiscal_year}, version_key) as is_current
    from versions
),
final as (
    select
        u.initiative_id, u.fiscal_year, u.as_of, u.outcome_text, u.figure_value, u.figure_unit, u.source,
        u.submission_id, u.activities, u.source_cell, u.valid_from, r.valid_to, r.is_current, u.label,
        u.sha256, u.archive_path, u.row_order
    from unioned as u
    join ranked as r
        on r.initiative_id = u.initiative_id and r.fiscal_year = u.fiscal_year
        and r.version_key = coalesce(u.submission_id, 0)
)
select * from final;

comment on view initiative_outcomes is '取組実績(成果・効果): 資料記載分(seed)と各部局の提出分(submission)。再提出で置き換わった版も含む';
comment on column initiative_outcomes.initiative_id is '項目ID';
comment on column initiative_outcomes.fiscal_year is '年度(西暦)';
comment on column initiative_outcomes.as_of is '時点(記入がなければ年度末)';
comment on column initiative_outcomes.outcome_text is '成果・効果';
comment on column initiative_outcomes.figure_value is '成果の数値';
comment on column initiative_outcomes.figure_unit is '数値の単位';
comment on column initiative_outcomes.source is '出典: seed=資料の記載, submission=部局の提出';
comment on column initiative_outcomes.submission_id is '提出番号(資料の記載は NULL)';
comment on column initiative_outcomes.activities is 'その年度の取組内容(提出分)';
comment on column initiative_outcomes.source_cell is '出典セル(シート!セル)';
comment on column initiative_outcomes.valid_from is 'この版の有効開始(受付日時。資料の記載は NULL)';
comment on column initiative_outcomes.valid_to is 'この版の有効終了(次の版の受付日時。現行版は NULL)';
comment on column initiative_outcomes.is_current is '現行の版か';
comment on column initiative_outcomes.label is '資料上の年度表記(R3、R3・R4)';
comment on column initiative_outcomes.sha256 is '原本のSHA-256';
comment on column initiative_outcomes.archive_path is '原本の保管場所';
comment on column initiative_outcomes.row_order is '記載順';
