-- Every hub active on activity_date with its current version as of as_of (newest receipt, then
-- newest arrival, among versions received by then) and the receipt time of its first version.
-- A hub with no version by as_of comes back with nulls: pending or no return.
with active_hub as (
    select
        hub.hub_code,
        hub.sub_icb_code
    from hub
    where hub.active_from <= :activity_date
        and hub.active_to >= :activity_date
),

known_version as (
    select
        v.hub_code,
        v.version,
        v.received_at,
        v.hub_status,
        v.sessions_planned,
        v.sessions_delivered,
        v.gp_hours,
        v.other_clinician_hours,
        v.appts_offered,
        v.appts_booked,
        v.appts_attended,
        v.appts_dna,
        v.attended_f2f,
        v.attended_remote,
        v.src_practice,
        v.src_nhs111,
        v.src_ed_streaming,
        v.src_other,
        v.onward_ed,
        v.patients_turned_away,
        v.comments,
        v.submission_id,
        row_number() over (
            partition by v.hub_code
            order by v.received_at desc, v.arrival_seq desc
        ) as newest_rank,
        min(v.received_at) over (partition by v.hub_code) as first_received_at,
        count(*) over (partition by v.hub_code) as versions_known
    from hub_day_version as v
    where v.activity_date = :activity_date
        and v.received_at <= :as_of
),

final as (
    select
        active_hub.sub_icb_code,
        active_hub.hub_code,
        known_version.first_received_at,
        known_version.versions_known,
        known_version.version,
        known_version.received_at,
        known_version.submission_id,
        known_version.hub_status,
        known_version.sessions_planned,
        known_version.sessions_delivered,
        known_version.gp_hours,
        known_version.other_clinician_hours,
        known_version.appts_offered,
        known_version.appts_booked,
        known_version.appts_attended,
        known_version.appts_dna,
        known_version.attended_f2f,
        known_version.attended_remote,
        known_version.src_practice,
        known_version.src_nhs111,
        known_version.src_ed_streaming,
        known_version.src_other,
        known_version.onward_ed,
        known_version.patients_turned_away,
        known_version.comments
    from active_hub
    left join known_version
        on known_version.hub_code = active_hub.hub_code
        and known_version.newest_rank = 1
)

select * from final
order by sub_icb_code, hub_code
