{#- For W05: appts_offered of the hub-days of hub_codes dated first_day to last_day whose current version
    as of the as-of time is OPEN (the warehouse as the return's receipt found it). -#}
with {% include "fragments/versions_as_of.sql" %},

final as (
    select
        hub_code,
        activity_date,
        appts_offered
    from versions_as_of
    where newest_rank = 1
        and hub_status = 'OPEN'
        and hub_code in :hub_codes
)

select * from final
order by hub_code, activity_date
