{#- The current version as of the as-of time of every hub-day dated first_day to last_day, with its
    comments and warnings. Hub-days with no version by the as-of time are absent. -#}
with {% include "fragments/versions_as_of.sql" %},

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
    from versions_as_of
    where newest_rank = 1
)

select * from final
order by activity_date, sub_icb_code, hub_code
