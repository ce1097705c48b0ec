{#- Shared CTE: every version of the hub-days dated first_day to last_day that was received by as_of,
    ranked within its hub-day (newest_rank 1 = current then: newest receipt, then newest arrival), with
    the receipt time of the hub-day's first version and the number of versions known then.
    Include it as the first CTE: `with {% include "fragments/versions_as_of.sql" %}, ...` -#}
versions_as_of as (
    select
        v.*,
        row_number() over (
            partition by v.hub_code, v.activity_date
            order by v.received_at desc, v.arrival_seq desc
        ) as newest_rank,
        min(v.received_at) over (partition by v.hub_code, v.activity_date) as first_received_at,
        count(*) over (partition by v.hub_code, v.activity_date) as versions_known
    from hub_day_version as v
    where v.activity_date >= :first_day
        and v.activity_date <= :last_day
        and v.received_at <= :as_of
)
