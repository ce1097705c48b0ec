{#- Seed or refresh one locality of the reference data (re-runnable: the key decides insert or update). -#}
insert into locality (sub_icb_code, locality_name, slug, sort_order)
values (:sub_icb_code, :locality_name, :slug, :sort_order)
on conflict (sub_icb_code) do update
set
    locality_name = excluded.locality_name,
    slug = excluded.slug,
    sort_order = excluded.sort_order
