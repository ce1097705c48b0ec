-- Per locality and activity day from the first day to the last day: sums over the current versions as of
-- the as-of time of the hubs active that day, CLOSED_PLANNED rows left out (spec §5). Trend charts and the
-- season-to-date figures read these; a locality-day with no counted row is absent.
with known_version as (
    select
        v.activity_date,
        v.sub_icb_code,
        v.hub_code,
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
        row_number() over (
            partition by v.hub_code, v.activity_date
            order by v.received_at desc, v.arrival_seq desc
        ) as newest_rank
    from hub_day_version as v
    where v.activity_date >= :first_day
        and v.activity_date <= :last_day
        and v.received_at <= :as_of
),

counted as (
    select known_version.*
    from known_version
    inner join hub
        on hub.hub_code = known_version.hub_code
        and hub.active_from <= known_version.activity_date
        and hub.active_to >= known_version.activity_date
    where known_version.newest_rank = 1
        and known_version.hub_status <> 'CLOSED_PLANNED'
),

final as (
    select
        activity_date,
        sub_icb_code,
        count(*) as hubs_counted,
        sum(sessions_planned) as sessions_planned,
        sum(sessions_delivered) as sessions_delivered,
        sum(appts_offered) as appts_offered,
        sum(appts_booked) as appts_booked,
        sum(appts_attended) as appts_attended,
        sum(appts_dna) as appts_dna,
        sum(src_practice) as src_practice,
        sum(src_nhs111) as src_nhs111,
        sum(src_ed_streaming) as src_ed_streaming,
        sum(src_other) as src_other,
        sum(onward_ed) as onward_ed,
        sum(patients_turned_away) as patients_turned_away
    from counted
    group by activity_date, sub_icb_code
)

select * from final
order by activity_date, sub_icb_code
