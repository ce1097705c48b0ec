-- Add the staged rows of one accepted submission as new versions: each hub-day's next version
-- number is its highest so far plus one (assigned on receipt, never taken from the file).
-- Not current yet: update_current_versions decides that from receipt times.
insert into hub_day_version (
    submission_id, activity_date, hub_code, sub_icb_code, version, is_current, received_at,
    arrival_seq, row_number, hub_status,
    sessions_planned, sessions_delivered, appts_offered, appts_booked, appts_attended, appts_dna,
    attended_f2f, attended_remote, src_practice, src_nhs111, src_ed_streaming, src_other,
    onward_ed, patients_turned_away,
    gp_hours, other_clinician_hours, comments, signed_off_by, warnings
)
with source as (
    select * from stage_hub_day
),

prior as (
    select
        v.hub_code,
        v.activity_date,
        max(v.version) as max_version
    from hub_day_version as v
    inner join source
        on source.hub_code = v.hub_code
        and source.activity_date = v.activity_date
    group by v.hub_code, v.activity_date
),

final as (
    select
        :submission_id as submission_id,
        source.activity_date,
        source.hub_code,
        source.sub_icb_code,
        coalesce(prior.max_version, 0) + 1 as version,
        false as is_current,
        :received_at as received_at,
        :arrival_seq as arrival_seq,
        source.row_number,
        source.hub_status,
        source.sessions_planned,
        source.sessions_delivered,
        source.appts_offered,
        source.appts_booked,
        source.appts_attended,
        source.appts_dna,
        source.attended_f2f,
        source.attended_remote,
        source.src_practice,
        source.src_nhs111,
        source.src_ed_streaming,
        source.src_other,
        source.onward_ed,
        source.patients_turned_away,
        source.gp_hours,
        source.other_clinician_hours,
        source.comments,
        source.signed_off_by,
        source.warnings
    from source
    left join prior
        on prior.hub_code = source.hub_code
        and prior.activity_date = source.activity_date
)

select * from final
