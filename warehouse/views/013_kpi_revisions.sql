-- kpi_revisions: the committee's changes to the plan as decided, one row per change of one field (catalogue/revisions.csv).
create or replace view kpi_revisions as
with revisions as (select * from ref_revisions),
final as (
    select revision_id, item_id, field, new_value, effective_fy, decided_on, reason, source, row_order
    from revisions
)
select * from final;

comment on view kpi_revisions is '計画の改定記録: 委員会が決めた変更(1行に1項目の1フィールド)。catalogue/revisions.csv のとおり';
comment on column kpi_revisions.revision_id is '改定番号';
comment on column kpi_revisions.item_id is '指標IDまたは項目ID';
comment on column kpi_revisions.field is '変更したフィールド(name, owner, direction, baseline_value, baseline_fy, target_value, target_fy)';
comment on column kpi_revisions.new_value is '新しい値(記載どおり)';
comment on column kpi_revisions.effective_fy is '適用開始年度(西暦)';
comment on column kpi_revisions.decided_on is '決定日';
comment on column kpi_revisions.reason is '理由';
comment on column kpi_revisions.source is '出典(資料・会議)';
comment on column kpi_revisions.row_order is 'revisions.csv での記載順';
