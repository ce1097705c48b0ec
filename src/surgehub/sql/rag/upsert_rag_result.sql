{#- Store one RAG result (a locality-day, or the GM roll-up) as of a time; re-running replaces it. -#}
insert into rag_result (
    activity_date, scope, sub_icb_code, as_of, status, level, points, escalated, assurance,
    reasons, figures, ruleset_version, computed_at
)
values (
    :activity_date, :scope, :sub_icb_code, :as_of, :status, :level, :points, :escalated, :assurance,
    :reasons, :figures, :ruleset_version, :computed_at
)
on conflict (activity_date, sub_icb_code, as_of) do update
set
    scope = excluded.scope,
    status = excluded.status,
    level = excluded.level,
    points = excluded.points,
    escalated = excluded.escalated,
    assurance = excluded.assurance,
    reasons = excluded.reasons,
    figures = excluded.figures,
    ruleset_version = excluded.ruleset_version,
    computed_at = excluded.computed_at
