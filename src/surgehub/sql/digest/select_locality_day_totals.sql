{#- Per locality and activity day from first_day to last_day: sums over the current versions as of the
    as-of time of the hubs active that day, CLOSED_PLANNED rows left out (spec §5). Trend charts and the
    season-to-date figures read these; a locality-day with no counted row is absent. -#}
with {% include "fragments/versions_as_of.sql" %},

counted as (
    select versions_as_of.*
    from versions_as_of
    inner join hub
        on hub.hub_code = versions_as_of.hub_code
        and hub.active_from <= versions_as_of.activity_date
        and hub.active_to >= versions_as_of.activity_date
    where versions_as_of.newest_rank = 1
        and versions_as_of.hub_status <> 'CLOSED_PLANNED'
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
