-- The versions that a newer receipt has just replaced are no longer current.
update hub_day_version
set is_current = false
where version_id in :version_ids
    and is_current = true
