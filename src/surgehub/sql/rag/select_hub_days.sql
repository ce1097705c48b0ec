{#- Every hub active on activity_date with its current version as of the as-of time and the receipt time
    of its first version. A hub with no version by then comes back with nulls: pending or no return.
    The caller binds first_day and last_day to activity_date. -#}
with {% include "fragments/versions_as_of.sql" %},

active_hub as (
    select
        hub.hub_code,
        hub.sub_icb_code
    from hub
    where hub.active_from <= :activity_date
        and hub.active_to >= :activity_date
),

final as (
    select
        active_hub.sub_icb_code,
        active_hub.hub_code,
        versions_as_of.first_received_at,
        versions_as_of.versions_known,
        versions_as_of.version,
        versions_as_of.received_at,
        versions_as_of.submission_id,
        versions_as_of.hub_status,
        versions_as_of.sessions_planned,
        versions_as_of.sessions_delivered,
        versions_as_of.gp_hours,
        versions_as_of.other_clinician_hours,
        versions_as_of.appts_offered,
        versions_as_of.appts_booked,
        versions_as_of.appts_attended,
        versions_as_of.appts_dna,
        versions_as_of.attended_f2f,
        versions_as_of.attended_remote,
        versions_as_of.src_practice,
        versions_as_of.src_nhs111,
        versions_as_of.src_ed_streaming,
        versions_as_of.src_other,
        versions_as_of.onward_ed,
        versions_as_of.patients_turned_away,
        versions_as_of.comments
    from active_hub
    left join versions_as_of
        on versions_as_of.hub_code = active_hub.hub_code
        and versions_as_of.newest_rank = 1
)

select * from final
order by sub_icb_code, hub_code
