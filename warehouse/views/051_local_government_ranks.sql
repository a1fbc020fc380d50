-- local_government_ranks: each municipality's place for a computed KPI and fiscal year, among the municipalities and
-- within its region, beside its region's and the prefecture's rate, the municipalities most like it in size, whether its
-- rate rests on too small a denominator (※参考) and how far it moves the prefecture's rate; on two bases: 現行 (every reported rate, as the 庁内用 site shows) and 確定 (confirmed rates only, the 公開用 site).
create or replace view local_government_ranks as
with unit_values as (select * from local_government_values),
definitions as (select * from kpi_year_definitions),
aggregates as (select * from kpi_aggregates),
bases as (select * from (values ('現行'), ('確定')) as b (basis)),
-- the municipalities with a rate on each basis (a unit that reported 0 of 0 has none and is not ranked)
rated as (
    select b.basis, v.kpi_id, v.fiscal_year, v.code, v.name, v.kind, v.region, v.numerator, v.denominator, v.value,
           d.direction
    from unit_values as v
    cross join bases as b
    join definitions as d on d.kpi_id = v.kpi_id and d.fiscal_year = v.fiscal_year
    where is_municipality(v.kind) and v.reported and v.value is not null
        and (b.basis = '現行' or v.value_status = '確定')
),
ranked as (
    select
        r.*,
        rank_by_rate({b: r.basis, k: r.kpi_id, y: r.fiscal_year}, r.value, r.direction) as rank,
        count(*) over (partition by r.basis, r.kpi_id, r.fiscal_year) as ranked,
        rank_by_rate({b: r.basis, k: r.kpi_id, y: r.fiscal_year, r: r.region}, r.value, r.direction) as region_rank,
        count(*) over (partition by r.basis, r.kpi_id, r.fiscal_year, r.region) as region_ranked
    from rated as r
),
-- the nearest five in size (|log of the ratio of denominators|) among those of similar size, ties by code
size_pairs as (
    select a.basis, a.kpi_id, a.fiscal_year, a.code, o.code as other, abs(ln(o.denominator / a.denominator)) as distance
    from rated as a
    join rated as o
        on o.basis = a.basis and o.kpi_id = a.kpi_id and o.fiscal_year = a.fiscal_year and o.code <> a.code
        and of_similar_size(a.kind, a.denominator, o.kind, o.denominator)
    qualify row_number() over (partition by a.basis, a.kpi_id, a.fiscal_year, a.code order by distance, other) <= 5
),
nearest as (
    select basis, kpi_id, fiscal_year, code, list(other order by distance, other) as similar_codes
    from size_pairs
    group by all
),
-- a region's and the prefecture's ratio of sums; on the 確定 basis only where every count in it is confirmed
scope_values as (
    select b.basis, a.kpi_id, a.fiscal_year, a.scope_kind, a.scope, a.value, a.denominator
    from aggregates as a
    cross join bases as b
    where b.basis = '現行' or a.value_status = '確定'
),
final as (
    select
        r.basis,
        r.kpi_id,
        r.fiscal_year,
        r.code,
        r.name,
        r.kind,
        r.region,
        r.numerator,
        r.denominator,
        r.value,
        r.direction,
        r.rank,
        r.ranked,
        r.region_rank,
        r.region_ranked,
        rv.value as region_value,
        pv.value as prefecture_value,
        coalesce(s.similar_codes, []) as similar_codes,
        is_small_denominator(r.denominator) as reference_only,
        small_denominator_limit() as reference_below,
        -- how far this municipality moves the prefecture's ratio of sums from what it would be at that rate itself
        case when pv.value is not null then (r.value - pv.value) * r.denominator / pv.denominator end as prefecture_effect
    from ranked as r
    left join nearest as s using (basis, kpi_id, fiscal_year, code)
    left join scope_values as rv
        on rv.basis = r.basis and rv.kpi_id = r.kpi_id and rv.fiscal_year = r.fiscal_year
        and rv.scope_kind = '地方' and rv.scope = r.region
    left join scope_values as pv
        on pv.basis = r.basis and pv.kpi_id = r.kpi_id and pv.fiscal_year = r.fiscal_year and pv.scope_kind = '県全体'
)
select * from final;

comment on view local_government_ranks is '市町村の順位と類似団体: 構成要素から計算する指標・年度ごとに、率のある市町村の全市町村中・地方内の順位(指標の向きでよい順)、地方と県全体の率、規模(分母)の近い同種の市町村、分母が小さい率(※参考)、県全体の率への影響。基準は 現行(報告済みの率すべて、庁内用)と 確定(確定した率のみ、公開用)';
comment on column local_government_ranks.basis is '順位の基準: 現行=報告済みの率すべて, 確定=確定した率のみ(公開用サイト)';
comment on column local_government_ranks.kpi_id is '指標ID';
comment on column local_government_ranks.fiscal_year is '年度(西暦)';
comment on column local_government_ranks.code is '全国地方公共団体コード(6桁)';
comment on column local_government_ranks.name is '市町村名';
comment on column local_government_ranks.kind is '種別: 市・町・村';
comment on column local_government_ranks.region is '地方';
comment on column local_government_ranks.numerator is '分子の件数';
comment on column local_government_ranks.denominator is '分母の件数(規模として類似団体の判定に使う)';
comment on column local_government_ranks.value is 'この市町村の率(local_government_values.value)';
comment on column local_government_ranks.direction is '指標の向き(increase: 高いほどよい, decrease: 低いほどよい)';
comment on column local_government_ranks.rank is '率のある市町村の中の順位(1=最もよい。同じ率は同順位)';
comment on column local_government_ranks.ranked is '順位をつけた市町村の数(その基準で率のある市町村)';
comment on column local_government_ranks.region_rank is '地方内の順位(1=最もよい)';
comment on column local_government_ranks.region_ranked is '地方内で順位をつけた市町村の数';
comment on column local_government_ranks.region_value is 'この市町村の地方の率(kpi_aggregates。確定の基準では地方の件数がすべて確定のときのみ)';
comment on column local_government_ranks.prefecture_value is '県全体の率(kpi_aggregates。確定の基準では件数がすべて確定のときのみ)';
comment on column local_government_ranks.similar_codes is '規模の近い同種の市町村のコード: 種別が同じで分母が0.5倍〜2倍のうち、分母の比(対数)が近い順に最大5団体';
comment on column local_government_ranks.reference_only is '※参考: 分母が小さい(reference_below 未満)ため率が大きく動く。順位はつけるが、比べるときは参考にとどめる';
comment on column local_government_ranks.reference_below is '※参考とする分母の下限(この件数未満の分母の率は※参考。1件で率が5ポイントより大きく動く)';
comment on column local_government_ranks.prefecture_effect is '県全体の率への影響(ポイント): (この市町村の率−県全体の率)×この市町村の分母÷県全体の分母の合計。この市町村が県全体の率だったときより県全体の率がどれだけ高い(負: 低い)か。負の大きい市町村ほど県全体の率を押し下げている';
