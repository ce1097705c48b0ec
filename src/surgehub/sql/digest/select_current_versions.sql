-- The current version as of the as-of time (newest receipt, then newest arrival, among versions received by
-- then) of every hub-day with activity_date from the first day to the last day, with its comments and
-- warnings. Hub-days with no version by the as-of time are absent.
with known_version as (
    select
        v.activity_date,
        v.sub_icb_code,
        v.hub_code,
        v.version,
        v.received_at,
        v.hub_status,
        v.sessions_planned,
        v.sessions_delivered,
        v.appts_offered,
        v.appts_booked,
        v.appts_attended,
        v.appts_dna,
        v.src_practice,
        v.src_nhs111,
        v.src_ed_streaming,
        v.src_other,
        v.onward_ed,
        v.patients_turned_away,
        v.comments,
        v.warnings,
        row_number() over (
            partition by v.hub_code, v.activity_date
            order by v.received_at desc, v.arrival_seq desc
        ) as newest_rank
    from hub_day_version as v
    where v.activity_date >= :first_day
        and v.activity_date <= :last_day
        and v.received_at <= :as_of
),

final as (
    select
        activity_date,
        sub_icb_code,
        hub_code,
        version,
        received_at,
        hub_status,
        sessions_planned,
        sessions_delivered,
        appts_offered,
        appts_booked,
        appts_attended,
        appts_dna,
        src_practice,
        src_nhs111,
        src_ed_streaming,
        src_other,
        onward_ed,
        patients_turned_away,
        comments,
        warnings
    from known_version
    where newest_rank = 1
)

select * from final
order by activity_date, sub_icb_code, hub_code
