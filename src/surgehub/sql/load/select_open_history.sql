-- For W05: appts_offered of the hub-days of hub_codes dated first_day to last_day whose newest
-- version received by as_of is OPEN (the warehouse as the return's receipt found it).
with known as (
    select
        v.hub_code,
        v.activity_date,
        v.hub_status,
        v.appts_offered,
        row_number() over (
            partition by v.hub_code, v.activity_date
            order by v.received_at desc, v.arrival_seq desc
        ) as newest_rank
    from hub_day_version as v
    where v.hub_code in :hub_codes
        and v.activity_date between :first_day and :last_day
        and v.received_at <= :as_of
),

final as (
    select
        hub_code,
        activity_date,
        appts_offered
    from known
    where newest_rank = 1
        and hub_status = 'OPEN'
)

select * from final
order by hub_code, activity_date
