-- macros: the rules several views share, defined once: plan figures and actuals as exact decimals, reaching
-- the target, the straight trajectory, the pace as an exact fraction and the grade it earns.
-- (No view here; shinchoku/config.py's Grading and catalogue.Kpi apply the same rules to one file.)

-- A value as the decimal it was written as: its shortest decimal form, to 12 places (half away from zero).
create or replace macro exact_value(x) as cast(cast(x as varchar) as decimal(38, 12));
-- A configured band's lower bound (min_pace) as a decimal, to 6 places.
create or replace macro exact_bound(x) as cast(cast(x as varchar) as decimal(38, 6));

-- Whether a value meets the target, in the KPI's direction (NULL when either is unknown).
create or replace macro reached_target(direction, value, target) as
    case when direction = 'decrease' then exact_value(value) <= exact_value(target)
         else exact_value(value) >= exact_value(target) end;

-- The straight trajectory's value in fiscal year y: the target from the target year on; NULL if a figure is unknown.
create or replace macro trajectory_value(b, b_fy, t, t_fy, y) as
    case
        when b is null or b_fy is null or t is null or t_fy is null then null
        when y >= t_fy then t
        else b + (t - b) * (y - b_fy) / (t_fy - b_fy)
    end;

-- pace_rate = (a − b) / (expected − b) as an exact fraction, never divided before it is compared:
-- before the target year (a − b)·(t_fy − b_fy) / ((t − b)·(y − b_fy)), from it on (a − b) / (t − b).
-- The denominator is NULL at or before the baseline year, where the trajectory has not moved, or a figure is unknown.
create or replace macro pace_numerator(a, b, b_fy, t_fy, y) as
    (exact_value(a) - exact_value(b)) * (case when y >= t_fy then 1 else t_fy - b_fy end);
create or replace macro pace_denominator(b, b_fy, t, t_fy, y) as
    case when y > b_fy then
        nullif((exact_value(t) - exact_value(b)) * (case when y >= t_fy then 1 else y - b_fy end), 0)
    end;

-- Whether the fraction num / den is at least a band's bound, cross-multiplied (exact at the boundary).
create or replace macro pace_at_least(num, den, bound) as
    case when den > 0 then num >= exact_bound(bound) * den else num <= exact_bound(bound) * den end;

-- The grade: the best band when the target is reached, else the best band the pace meets, else the floor;
-- NULL without a pace.
create or replace macro grade_of(reached, num, den) as
    case
        when reached then (select g.grade from cfg_grade_bands as g order by g.min_pace desc limit 1)
        when num is null or den is null then null
        else coalesce(
            (select g.grade from cfg_grade_bands as g where pace_at_least(num, den, g.min_pace)
             order by g.min_pace desc limit 1),
            (select s.grade_floor from cfg_settings as s))
    end;
