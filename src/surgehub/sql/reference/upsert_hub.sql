{#- Seed or refresh one hub of the register (re-runnable: the key decides insert or update). -#}
insert into hub (hub_code, sub_icb_code, hub_name, active_from, active_to)
values (:hub_code, :sub_icb_code, :hub_name, :active_from, :active_to)
on conflict (hub_code) do update
set
    sub_icb_code = excluded.sub_icb_code,
    hub_name = excluded.hub_name,
    active_from = excluded.active_from,
    active_to = excluded.active_to
