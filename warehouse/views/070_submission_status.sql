-- submission_status: per reporting unit and fiscal year, which expected KPIs have been reported, and when: each department
-- (its return sheet) and each local government (its survey sheet's counts of the computed KPIs), by the same due date.
create or replace view submission_status as
with definitions as (select * from kpi_year_definitions),
reporters as (select * from kpi_reporters),
unit_values as (select * from local_government_values),
components as (select * from ref_kpi_components),
counts as (select * from component_history),
organisation as (select * from ref_departments),
settings as (select * from cfg_settings),
plan_definitions as (select * from ref_kpi_definitions),
history as (select * from observation_history),
current_values as (select * from history where valid_to is null),
standing as (select * from standing_confirmations()),
bounds as (
    select
        min(baseline_fy) + 1 as first_fy,
        max(target_fy) as plan_end_fy,
        -- the last fiscal year that has ended
        fiscal_year_of(current_date) - 1 as last_ended_fy
    from plan_definitions
),
years as (
    select unnest(range(first_fy, last_ended_fy + 1)) as fiscal_year from bounds
),
-- the KPI years a report is due: a KPI in the years it exists, after its baseline, up to its target and ended
plan_years as (
    select d.owner, d.fiscal_year, d.kpi_id
    from definitions as d
    join years as y on y.fiscal_year = d.fiscal_year
    cross join bounds as b
    where d.in_force and d.fiscal_year > d.baseline_fy and d.fiscal_year <= coalesce(d.target_fy, b.plan_end_fy)
),
-- a computed KPI in a year its rule is in force is owed by the local governments, not by its owner
computed_years as (select distinct kpi_id, fiscal_year from reporters),
-- a KPI is expected from its owner in force that year, unless it is computed that year
expected as (
    select p.owner as department, p.fiscal_year, p.kpi_id
    from plan_years as p
    where not exists (select 1 from computed_years as c where c.kpi_id = p.kpi_id and c.fiscal_year = p.fiscal_year)
),
departments as (select distinct owner as department from definitions),
first_received as (
    select kpi_id, fiscal_year, min(valid_from) as first_received_at, max(valid_from) as last_received_at
    from history
    group by kpi_id, fiscal_year
),
reported as (
    select e.department, e.fiscal_year, e.kpi_id, f.first_received_at, f.last_received_at
    from expected as e
    join (select distinct kpi_id, fiscal_year from current_values) as c using (kpi_id, fiscal_year)
    left join first_received as f using (kpi_id, fiscal_year)
),
-- each department for the years it exists (departments.csv; every year where it is not listed)
grid as (
    select d.department, y.fiscal_year
    from departments as d
    cross join years as y
    where not exists (
        select 1 from organisation as o
        where o.department = d.department
          and (y.fiscal_year < coalesce(o.valid_from_fy, -9999) or y.fiscal_year > coalesce(o.valid_to_fy, 9999)))
),
counted as (
    select
        g.department,
        g.fiscal_year,
        (select count(*) from expected as e where e.department = g.department and e.fiscal_year = g.fiscal_year) as kpis_expected,
        (select count(*) from reported as r where r.department = g.department and r.fiscal_year = g.fiscal_year) as kpis_reported,
        coalesce((
            select list(e.kpi_id order by e.kpi_id) from expected as e
            where e.department = g.department and e.fiscal_year = g.fiscal_year
              and not exists (select 1 from reported as r where r.department = e.department
                              and r.fiscal_year = e.fiscal_year and r.kpi_id = e.kpi_id)
        ), []::varchar[]) as missing_kpi_ids,
        (select max(r.last_received_at) from reported as r where r.department = g.department and r.fiscal_year = g.fiscal_year) as last_received_at,
        make_date(g.fiscal_year + 1, s.due_month, s.due_day) as due_date
    from grid as g
    cross join settings as s
),
department_rows as (
    select
        '部局' as unit_kind, n.department, n.fiscal_year, n.kpis_expected, n.kpis_reported, n.missing_kpi_ids,
        n.last_received_at, n.due_date,
        case
            when n.kpis_expected = 0 then null
            else n.kpis_expected = (
                select count(*) from reported as r
                where r.department = n.department and r.fiscal_year = n.fiscal_year
                  and r.first_received_at < n.due_date + interval 1 day)
        end as on_time,
        c.confirmed_at,
        null::varchar as local_government,
        []::varchar[] as rejected_kpi_ids
    from counted as n
    left join standing as c on c.department = n.department and c.fiscal_year = n.fiscal_year
),
-- a local government owes each computed KPI it is expected to report (kpi_reporters) in a year a report is due
unit_expected as (
    select r.code, r.name, r.kpi_id, r.fiscal_year
    from reporters as r
    join (select distinct kpi_id, fiscal_year from plan_years) as p using (kpi_id, fiscal_year)
),
-- when each of its counts was first and last received: the KPI counts as received when its last component first was
component_received as (
    select h.local_government as code, h.kpi_id, h.fiscal_year, h.component_id,
        min(h.valid_from) as first_received_at, max(h.valid_from) as last_received_at
    from counts as h
    join components as c on c.kpi_id = h.kpi_id and c.component_id = h.component_id
        and valid_in(h.fiscal_year, c.valid_from_fy, c.valid_to_fy)
    group by all
),
unit_kpis as (
    select
        e.code, e.name, e.kpi_id, e.fiscal_year,
        make_date(e.fiscal_year + 1, s.due_month, s.due_day) as due_date,
        coalesce(v.reported, false) as reported,
        v.sheet_status,
        (select max(r.first_received_at) from component_received as r
         where r.code = e.code and r.kpi_id = e.kpi_id and r.fiscal_year = e.fiscal_year) as first_received_at,
        (select max(r.last_received_at) from component_received as r
         where r.code = e.code and r.kpi_id = e.kpi_id and r.fiscal_year = e.fiscal_year) as last_received_at,
        -- the standing confirmation that holds this KPI's counts (its owner's year)
        (select max(c.confirmed_at) from standing as c
         where c.fiscal_year = e.fiscal_year and list_contains(c.computed_kpi_ids, e.kpi_id)) as confirmed_at
    from unit_expected as e
    cross join settings as s
    left join unit_values as v on v.code = e.code and v.kpi_id = e.kpi_id and v.fiscal_year = e.fiscal_year
),
government_rows as (
    select
        '団体' as unit_kind,
        u.name as department,
        u.fiscal_year,
        count(*) as kpis_expected,
        count(*) filter (where u.reported) as kpis_reported,
        coalesce(list(u.kpi_id order by u.kpi_id) filter (where not u.reported), []::varchar[]) as missing_kpi_ids,
        max(u.last_received_at) filter (where u.reported) as last_received_at,
        any_value(u.due_date) as due_date,
        bool_and(u.reported and u.first_received_at < u.due_date + interval 1 day) as on_time,
        -- 確定 when every KPI it reports stands confirmed
        case when bool_and(u.confirmed_at is not null) then max(u.confirmed_at) end as confirmed_at,
        u.code as local_government,
        -- its latest survey sheet of the year was rejected (local_government_values.sheet_status 差戻し)
        coalesce(list(u.kpi_id order by u.kpi_id) filter (where u.sheet_status = '差戻し'), []::varchar[])
            as rejected_kpi_ids
    from unit_kpis as u
    group by u.code, u.name, u.fiscal_year
),
units as (
    select * from department_rows
    union all by name
    select * from government_rows
),
final as (
    select
        department, fiscal_year, kpis_expected, kpis_reported, missing_kpi_ids, last_received_at, due_date, on_time,
        confirmed_at, unit_kind, local_government, rejected_kpi_ids
    from units
)
select * from final;

comment on view submission_status is '提出状況: 報告する単位(部局・団体)と年度ごとの報告すべき指標数、報告済み数、未報告の指標、期限内か。部局は実績報告、団体(福島県・市町村)は調査票の件数(構成要素から計算する指標)';
comment on column submission_status.department is '部局(団体の行では団体名: 調査票を置くフォルダ名)';
comment on column submission_status.fiscal_year is '年度(西暦)。終了した年度まで';
comment on column submission_status.kpis_expected is '報告すべき指標数(その年度に存在し、基準年度 < 年度 ≦ 目標年度の指標。部局はその年度の所管がこの部局で、計算ルールが効力をもたない指標。団体は件数を報告すべき構成要素から計算する指標(kpi_reporters))';
comment on column submission_status.kpis_reported is '報告済みの指標数(団体は、その年度の構成要素の件数をすべて報告した指標)';
comment on column submission_status.missing_kpi_ids is '未報告の指標ID';
comment on column submission_status.last_received_at is '最後に受け付けた日時';
comment on column submission_status.due_date is '提出期限';
comment on column submission_status.on_time is '報告すべき指標をすべて期限内に報告したか(報告すべき指標がなければ NULL。団体は、指標の構成要素の件数が最初にそろった日時で判定)';
comment on column submission_status.confirmed_at is '確定日時(現在有効な確定がなければ NULL: 未確定。団体は、報告すべき指標の所管部局のその年度がすべて確定していればその日時)';
comment on column submission_status.unit_kind is '報告する単位の種別: 部局(実績報告)・団体(調査票)';
comment on column submission_status.local_government is '団体の全国地方公共団体コード(6桁。部局の行は NULL)';
comment on column submission_status.rejected_kpi_ids is '未報告の指標のうち、その年度の最新の調査票を差し戻したもの(団体のみ: local_government_values.sheet_status が差戻し。部局の行は空)';
