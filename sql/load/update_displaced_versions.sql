-- The versions that a newer receipt has just replaced are no longer current: every other current
-- version of a hub-day whose current version this submission has just loaded.
update hub_day_version
set is_current = false
where is_current = true
    and submission_id <> :submission_id
    and exists (
        select 1
        from hub_day_version as loaded
        where loaded.submission_id = :submission_id
            and loaded.is_current = true
            and loaded.hub_code = hub_day_version.hub_code
            and loaded.activity_date = hub_day_version.activity_date
    )
