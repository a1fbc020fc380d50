-- local_governments: the prefecture and its municipalities (catalogue/local_governments.csv), each code with its years.
create or replace view local_governments as
with ref_local_governments as (select * from ref_local_governments),
regions as (
    select * from (values ('県北', 1, 'けんぽく'), ('県中', 2, 'けんちゅう'), ('県南', 3, 'けんなん'), ('会津', 4, 'あいづ'),
                          ('南会津', 5, 'みなみあいづ'), ('相双', 6, 'そうそう'), ('いわき', 7, 'いわき'))
        as r (region, region_order, region_reading)
),
final as (
    select
        g.code,
        g.name,
        g.reading,
        g.kind,
        is_municipality(g.kind) as is_municipality,
        g.region,
        r.region_order,
        r.region_reading,
        g.valid_from_fy,
        g.valid_to_fy,
        g.row_order
    from ref_local_governments as g
    left join regions as r on r.region = g.region
)
select * from final;

comment on view local_governments is '地方公共団体: 県と市町村(catalogue/local_governments.csv)。団体コードごとに存在する年度つき';
comment on column local_governments.code is '全国地方公共団体コード(6桁、検査数字つき。例 072010)';
comment on column local_governments.name is '団体名';
comment on column local_governments.reading is '読み(ひらがな)';
comment on column local_governments.kind is '種別: 県・市・町・村';
comment on column local_governments.is_municipality is '市町村か(県は false)';
comment on column local_governments.region is '地方(県北・県中・県南・会津・南会津・相双・いわき。県は NULL)';
comment on column local_governments.region_order is '地方の並び順(1=県北 … 7=いわき。県は NULL)';
comment on column local_governments.region_reading is '地方の読み(ひらがな。サイトの検索が使う。県は NULL)';
comment on column local_governments.valid_from_fy is 'このコードで存在する最初の年度(NULL: 計画の当初から)';
comment on column local_governments.valid_to_fy is 'このコードで存在する最後の年度(NULL: 現在も存在。合併・コード変更で終わる)';
comment on column local_governments.row_order is 'ファイル上の並び順';
