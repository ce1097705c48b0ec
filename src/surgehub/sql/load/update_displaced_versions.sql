{#- The versions that a newer receipt has just replaced are no longer current: the loader names them
    (the newest version held for each hub-day this load's row now leads), by primary key. -#}
update hub_day_version
set is_current = false
where version_id in :version_ids
    and is_current = true
