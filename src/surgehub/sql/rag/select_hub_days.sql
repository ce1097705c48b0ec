{#- The current version as of the as-of time of every hub-day dated activity_date, with the receipt
    time of its first version and the number of versions known then. Which hubs were active that day
    (and so which hub-days with no version are pending or no return) is the register's word as of the
    same time: surgehub.rag joins the two. The caller binds first_day and last_day to activity_date. -#}
with {% include "fragments/versions_as_of.sql" %},

final as (
    select
        sub_icb_code,
        hub_code,
        first_received_at,
        versions_known,
        version,
        received_at,
        submission_id,
        hub_status,
        sessions_planned,
        sessions_delivered,
        gp_hours,
        other_clinician_hours,
        appts_offered,
        appts_booked,
        appts_attended,
        appts_dna,
        attended_f2f,
        attended_remote,
        src_practice,
        src_nhs111,
        src_ed_streaming,
        src_other,
        onward_ed,
        patients_turned_away,
        comments
    from versions_as_of
    where newest_rank = 1
)

select * from final
order by sub_icb_code, hub_code
