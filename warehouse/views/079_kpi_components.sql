-- kpi_components: the counts each computed KPI is computed from (catalogue/kpi_components.csv), one row per component
-- and its fiscal years.
create or replace view kpi_components as
with components as (select * from ref_kpi_components),
plan_kpis as (select * from ref_kpis),
roles as (
    select * from (values ('numerator', 1, '分子'), ('denominator', 2, '分母'), ('addend', 3, '加算'))
        as r (role, role_order, role_label)
),
final as (
    select
        c.kpi_id,
        k.name as kpi_name,
        c.component_id,
        c.component_name,
        c.role,
        r.role_order,
        r.role_label,
        c.unit,
        c.valid_from_fy,
        c.valid_to_fy,
        c.row_order
    from components as c
    join plan_kpis as k on k.kpi_id = c.kpi_id
    join roles as r on r.role = c.role
)
select * from final;

comment on view kpi_components is '指標の構成要素: 構成要素から計算する指標(computed_kpis)が、市町村等の報告するどの件数から計算されるか(catalogue/kpi_components.csv)。構成要素と適用年度ごとに1行';
comment on column kpi_components.kpi_id is '指標ID';
comment on column kpi_components.kpi_name is '指標名(計画どおり)';
comment on column kpi_components.component_id is '構成要素ID(指標の中で一意)';
comment on column kpi_components.component_name is '構成要素名(調査票で尋ねる項目。例 オンラインで行われた件数)';
comment on column kpi_components.role is '役割: numerator(分子)、denominator(分母)、addend(加算)';
comment on column kpi_components.role_order is '役割の並び順(1=分子、2=分母、3=加算)';
comment on column kpi_components.role_label is '役割の日本語名(分子・分母・加算)';
comment on column kpi_components.unit is '件数の単位(件・人・校 など。率や千件は使わない)';
comment on column kpi_components.valid_from_fy is 'この構成要素を報告する最初の年度';
comment on column kpi_components.valid_to_fy is 'この構成要素を報告する最後の年度(NULL: 現在も報告する)';
comment on column kpi_components.row_order is 'ファイル上の並び順';
