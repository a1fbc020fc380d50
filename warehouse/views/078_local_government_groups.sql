-- local_government_groups: named groups of municipalities (catalogue/local_government_groups.csv), one row per membership.
create or replace view local_government_groups as
with memberships as (select * from ref_local_government_groups),
governments as (select * from local_governments),
final as (
    select
        m.group_name,
        m.code,
        g.name,
        g.kind,
        g.region,
        m.valid_from_fy,
        m.valid_to_fy,
        m.row_order
    from memberships as m
    join governments as g on g.code = m.code
)
select * from final;

comment on view local_government_groups is '市町村のグループ: 名前のついた市町村の集まり(避難地域12市町村など。地方をまたいでよい)と、その所属の年度';
comment on column local_government_groups.group_name is 'グループ名';
comment on column local_government_groups.code is '所属する市町村の全国地方公共団体コード';
comment on column local_government_groups.name is '市町村名';
comment on column local_government_groups.kind is '種別: 市・町・村';
comment on column local_government_groups.region is 'その市町村の地方';
comment on column local_government_groups.valid_from_fy is '所属の最初の年度(NULL: 当初から)';
comment on column local_government_groups.valid_to_fy is '所属の最後の年度(NULL: 現在も所属)';
comment on column local_government_groups.row_order is 'ファイル上の並び順';
