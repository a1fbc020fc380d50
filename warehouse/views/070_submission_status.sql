-- submission_status: per department and fiscal year, which expected KPIs have been reported, and when.
create or replace view submission_status as
with definitions as (select * from kpi_year_definitions),
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
-- a KPI is expected from its owner in force that year, in the years it exists, after its baseline
expected as (
    select d.owner as department, d.fiscal_year, d.kpi_id
    from definitions as d
    join years as y on y.fiscal_year = d.fiscal_year
    cross join bounds as b
    where d.in_force and d.fiscal_year > d.baseline_fy and d.fiscal_year <= coalesce(d.target_fy, b.plan_end_fy)
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
final as (
    select
        n.department, n.fiscal_year, n.kpis_expected, n.kpis_reported, n.missing_kpi_ids, n.last_received_at, n.due_date,
        case
            when n.kpis_expected = 0 then null
            else n.kpis_expected = (
                select count(*) from reported as r
                where r.department = n.department and r.fiscal_year = n.fiscal_year
                  and r.first_received_at < n.due_date + interval 1 day)
        end as on_time,
        c.confirmed_at
    from counted as n
    left join standing as c on c.department = n.department and c.fiscal_year = n.fiscal_year
)
select * from final;

comment on view submission_status is '提出状況: 部局・年度ごとの報告すべき指標数、報告済み数、未報告の指標、期限内か';
comment on column submission_status.department is '部局';
comment on column submission_status.fiscal_year is '年度(西暦)。終了した年度まで';
comment on column submission_status.kpis_expected is '報告すべき指標数(その年度に存在し、その年度の所管がこの部局で、基準年度 < 年度 ≦ 目標年度の指標)';
comment on column submission_status.kpis_reported is '報告済みの指標数';
comment on column submission_status.missing_kpi_ids is '未報告の指標ID';
comment on column submission_status.last_received_at is '最後に受け付けた日時';
comment on column submission_status.due_date is '提出期限';
comment on column submission_status.on_time is '報告すべき指標をすべて期限内に報告したか(報告すべき指標がなければ NULL)';
comment on column submission_status.confirmed_at is '確定日時(現在有効な確定がなければ NULL: 未確定)';
