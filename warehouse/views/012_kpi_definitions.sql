-- kpi_definitions: each KPI's definition over the fiscal years (SCD type 2): the plan as first set, then each revision.
create or replace view kpi_definitions as
with definitions as (select * from ref_kpi_definitions),
final as (
    select
        kpi_id,
        valid_from_fy,
        valid_to_fy,
        name,
        owner,
        direction,
        baseline_value,
        baseline_fy,
        target_value,
        target_fy,
        revision_id,
        reason,
        source,
        version,
        baseline_decimals,
        target_decimals
    from definitions
)
select * from final;

comment on view kpi_definitions is '指標の定義の履歴: 年度ごとに効力のある定義(当初の計画と、委員会の改定ごとの版)。valid_to_fy が NULL なら現行';
comment on column kpi_definitions.kpi_id is '指標ID';
comment on column kpi_definitions.valid_from_fy is 'この定義が適用される最初の年度(西暦)';
comment on column kpi_definitions.valid_to_fy is 'この定義が適用される最後の年度(現行の定義は NULL。廃止された指標は廃止の前年度)';
comment on column kpi_definitions.name is '指標名';
comment on column kpi_definitions.owner is '所管部局';
comment on column kpi_definitions.direction is '方向: increase=大きいほど良い, decrease=小さいほど良い';
comment on column kpi_definitions.baseline_value is '基準値(不明の場合は NULL)';
comment on column kpi_definitions.baseline_fy is '基準年度';
comment on column kpi_definitions.target_value is '目標値';
comment on column kpi_definitions.target_fy is '目標年度';
comment on column kpi_definitions.revision_id is 'この版を開いた改定の番号(当初の計画は NULL。複数なら「、」区切り)';
comment on column kpi_definitions.reason is '改定の理由';
comment on column kpi_definitions.source is '改定を決めた資料・会議';
comment on column kpi_definitions.version is '版番号(1から)';
comment on column kpi_definitions.baseline_decimals is '基準値の記載桁数(小数点以下)';
comment on column kpi_definitions.target_decimals is '目標値の記載桁数(小数点以下)';
