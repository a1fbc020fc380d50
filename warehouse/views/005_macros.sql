-- macros: the rules several views share, each written once: plan figures and actuals as exact decimals, reaching
-- the target, the straight trajectory, the pace as an exact fraction and the grade it earns, the fiscal year's end,
-- the versions of a key (SCD type 2), the accepted submissions, a sheet!cell reference, the standing confirmation,
-- a catalogue row's years, what a municipality is and a computed KPI's value from its sums.
-- (No view here. The Python that applies a rule to one file or before the views exist is held to these by tests:
-- config.Grading and catalogue.Kpi, parse.fiscal_year_end, messages.Issue.location, confirm.confirmed_periods.)

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

-- The grade, from the bands in use best first with the floor last (min_pace NULL), as grade_bands lists them:
-- the best band when the target is reached, else the first band the pace meets; NULL without a pace.
create or replace macro grade_of(reached, num, den, bands) as
    case
        when reached then bands[1].grade
        when num is null or den is null then null
        else list_filter(bands, lambda b: b.min_pace is null or pace_at_least(num, den, b.min_pace))[1].grade
    end;

-- The last day of fiscal year fy (April to March): FY2021 ends 31 March 2022. A value without a 時点 is as of it.
create or replace macro fiscal_year_end(fy) as make_date(fy + 1, 3, 31);
-- The fiscal year a date falls in: 31 March 2022 is in FY2021, 1 April 2022 in FY2022.
create or replace macro fiscal_year_of(d) as case when month(d) >= 4 then year(d) else year(d) - 1 end;

-- Versions of one key (SCD type 2), in the order they were received: each is valid from its receipt until the
-- next version's; the current version is the one with no next (valid_to NULL). A key of several columns is a struct.
create or replace macro version_number(key, received_order) as
    row_number() over (partition by key order by received_order);
create or replace macro version_valid_to(valid_from, key, received_order) as
    lead(valid_from) over (partition by key order by received_order);
create or replace macro is_current_version(key, received_order) as
    lead(received_order) over (partition by key order by received_order) is null;

-- The submissions whose rows count: accepted (not rejected, not a duplicate).
create or replace macro accepted_submissions() as table
    select * from raw_submissions where status = 'accepted';

-- Where a value was read, as a department reads it: 実績報告!E7 (NULL without a cell).
create or replace macro cell_ref(sheet, cell) as sheet || '!' || cell;

-- The standing confirmation of each department and year: its latest confirmation, unless that one was reopened.
create or replace macro standing_confirmations() as table
    select c.*
    from raw_confirmations as c
    left join raw_reopenings as r on r.confirmation_id = c.confirmation_id
    qualify c.confirmation_id = max(c.confirmation_id) over (partition by c.department, c.fiscal_year)
        and r.confirmation_id is null;

-- Whether fiscal year fy lies in the span from_fy..to_fy (both included; a NULL end is open): a catalogue row's years.
create or replace macro valid_in(fy, from_fy, to_fy) as
    (from_fy is null or fy >= from_fy) and (to_fy is null or fy <= to_fy);
-- Whether a local government's kind is a municipality (市・町・村), not the prefecture (県): catalogue_fields.MUNICIPALITY_KINDS.
create or replace macro is_municipality(kind) as kind in ('市', '町', '村');

-- A computed KPI's value from its sums (computed_kpis.rule): ratio_of_sums = Σ numerator ÷ Σ denominator × factor
-- (NULL for 0 of 0), sum = Σ addends × factor. Never an average of the units' rates: a large unit weighs as its counts.
create or replace macro computed_value(rule, numerator, denominator, factor) as
    case when rule = 'sum' then numerator * factor else numerator / nullif(denominator, 0) * factor end;

-- Whether a year's prefecture-wide aggregate stands as the KPI's value in kpi_progress: always once every expected
-- unit has reported; while 集計中, only when the units that have reported held at least half of last year's
-- Σ denominator (without a last year: half the expected units). One village's sheet never makes the headline.
create or replace macro aggregate_stands(complete, share_of_last_year, units_reported, units_expected) as
    complete or coalesce(share_of_last_year, units_reported / nullif(units_expected, 0), 0) >= 0.5;

-- A municipality's place among others of one key (a struct) by its rate, best first in the KPI's direction (the
-- highest first, the lowest where it should decrease); ties share a place (1, 1, 3). local_government_ranks.
create or replace macro rank_by_rate(key, value, direction) as
    rank() over (partition by key order by case when direction = 'decrease' then value else -value end);
-- Whether another municipality is of a similar size: the same kind (市・町・村) and a size (its denominator) from half to
-- twice this one's (×0.5–×2). The site states this rule (site.SIMILAR_RULE) beside the list it picks.
create or replace macro of_similar_size(kind, size, other_kind, other_size) as
    kind = other_kind and size > 0 and other_size >= size * 0.5 and other_size <= size * 2;
-- Whether a municipality's rate rests on a denominator too small to compare it by (※参考): below small_denominator_limit(),
-- where one count moves the rate by more than 5 points (双葉町's 1 teacher of 1 is 100%). Still ranked, but marked;
-- local_government_ranks carries the limit (reference_below), which the site and the report state beside the mark.
create or replace macro small_denominator_limit() as 20;
create or replace macro is_small_denominator(denominator) as denominator < small_denominator_limit();
