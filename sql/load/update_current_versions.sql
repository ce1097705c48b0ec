-- Make the newest version (by receipt time, then order of arrival) of every staged hub-day its
-- current one, and every other version of those hub-days not current. Rows already right are left.
with affected as (
    select distinct
        hub_code,
        activity_date
    from stage_hub_day
),

ranked as (
    select
        v.version_id,
        row_number() over (
            partition by v.hub_code, v.activity_date
            order by v.received_at desc, v.arrival_seq desc
        ) as newest_rank
    from hub_day_version as v
    inner join affected
        on affected.hub_code = v.hub_code
        and affected.activity_date = v.activity_date
)

update hub_day_version
set is_current = (ranked.newest_rank = 1)
from ranked
where hub_day_version.version_id = ranked.version_id
    and hub_day_version.is_current <> (ranked.newest_rank = 1)
