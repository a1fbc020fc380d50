-- grade_bands: the grades in use, best first, with the floor last: the report's legend and kpi_latest's labels.
create or replace view grade_bands as
with bands as (select * from cfg_grade_bands),
settings as (select * from cfg_settings),
ranked as (
    select grade, min_pace, label, row_number() over (order by min_pace desc) as grade_rank, false as is_floor
    from bands
),
band_count as (select count(*) as bands from bands),
floor as (
    select s.grade_floor as grade, null::double as min_pace, s.floor_label as label,
        n.bands + 1 as grade_rank, true as is_floor
    from settings as s
    cross join band_count as n
),
final as (
    select * from ranked
    union all
    select * from floor
)
select * from final;

comment on view grade_bands is '評価の区分: 良い順に、ペースの下限と表示名。最後は下限のない最下位の区分';
comment on column grade_bands.grade is '評価(設定の名前。既定は A〜D)';
comment on column grade_bands.min_pace is 'この評価になるペース(軌道比)の下限。最下位の区分は NULL';
comment on column grade_bands.label is '表示名(順調・おおむね順調・やや遅れ・遅れ など)';
comment on column grade_bands.grade_rank is '順位(1が最良)';
comment on column grade_bands.is_floor is '最下位の区分か';
