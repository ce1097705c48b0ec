{#- Versions already held for the hubs and days a load touches: for each hub-day, its newest version
    (by receipt time, then order of arrival) with the highest version number so far. The loader
    numbers new rows from max_version and decides from received_at and arrival_seq which is current. -#}
with known as (
    select
        v.version_id,
        v.hub_code,
        v.activity_date,
        v.received_at,
        v.arrival_seq,
        row_number() over (
            partition by v.hub_code, v.activity_date
            order by v.received_at desc, v.arrival_seq desc
        ) as newest_rank,
        max(v.version) over (partition by v.hub_code, v.activity_date) as max_version
    from hub_day_version as v
    where v.hub_code in :hub_codes
        and v.activity_date between :first_day and :last_day
),

final as (
    select
        hub_code,
        activity_date,
        version_id,
        received_at,
        arrival_seq,
        max_version
    from known
    where newest_rank = 1
)

select * from final
