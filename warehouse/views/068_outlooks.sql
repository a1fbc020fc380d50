-- outlooks: the words of 見通し (kpi_outlook), best first, with what each means under the configured thresholds.
create or replace view outlooks as
with settings as (select * from cfg_settings),
words as (
    select * from (values
        (1, '目標達成', '最新の実績が目標値に到達している'),
        (2, '達成見込み', '今の傾向のまま目標年度までに目標値に届く'),
        (3, '要加速', '今の傾向では届かない。加速が必要'),
        (4, '達成困難', '今の傾向では目標年度までの到達は難しい(横ばいを含む)'),
        (5, '悪化', '傾向が目標値から遠ざかる向き'),
        (6, '未達成', '目標年度を過ぎても目標値に届いていない'),
        (7, '評価不能', '点が2つ未満、または基準値・目標値・目標年度が不明')
    ) as t (outlook_rank, outlook, meaning)
),
final as (
    select
        w.outlook,
        w.outlook_rank,
        w.meaning,
        case w.outlook when '達成見込み' then s.outlook_on_track when '要加速' then s.outlook_accelerate end
            as min_pace_ratio,
        case w.outlook when '要加速' then s.outlook_on_track when '達成困難' then s.outlook_accelerate end
            as below_pace_ratio
    from words as w
    cross join settings as s
)
select * from final;

comment on view outlooks is '見通しの区分: 良い順に、意味と判定に使うペース比(傾向÷必要なペース)の境界(設定 [outlook])';
comment on column outlooks.outlook is '見通し';
comment on column outlooks.outlook_rank is '順位(1が最良)';
comment on column outlooks.meaning is '意味';
comment on column outlooks.min_pace_ratio is 'この見通しになるペース比の下限(達成見込み・要加速のみ)';
comment on column outlooks.below_pace_ratio is 'この見通しになるペース比の上限(未満。要加速・達成困難のみ)';
