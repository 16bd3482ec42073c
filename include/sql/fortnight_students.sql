-- The students the fortnightly report counts, one row each, into the scratch table
-- fortnight_student that the summary and the breakdown read (docs/contracts.md#5-warehouse):
--   'listed':   every student on each school's latest list of the school year (fortnight_list),
--               a child on two schools' lists once,
--               for the open dropouts (status bo_hoc) and their breakdowns;
--   'returned': every student marked da_tro_lai on an accepted list of either week of the
--               fortnight (ops.current_submission), once: a return in the first week is not
--               lost when the second week's list no longer names the child.
-- Only the students the unit's report counts (docs/organisation.md#the-report-of-a-unit):
-- in_unit, whose resolved home commune the unit counts (fortnight_unit_home), and in_school,
-- who are on a list of one of the unit's schools (fortnight_unit_school).
-- Per student (with its student_key, for the restricted lists that name the counted children):
-- level from the grade; home commune resolved (fortnight_commune_map) and, for
-- the unit, the commune row it is counted under (unknown_commune when unresolved or outside
-- the unit's communes), never dropped; when they left school by the first day missed (on or
-- before the year's first day = he, then hk1, hk2, sau_tet); the police verdict; eligibility
-- to move up (Circular 22/2021 Art. 12: more than max_sessions missed sessions; lower and
-- upper secondary only, primary is khong_ap_dung); cause, destination and workplace from
-- the texts classified into fortnight_text_class (police first, then the school's nơi đến).
-- What the commune found on a home visit (fortnight_verified, docs/verification.md) overrides
-- both: present or left decides the verdict, its cause, destination and workplace replace
-- the school's and the police's; verified = 1 says the row was verified locally.
-- Bound by name: week_1, week_2, year_start, semester_2_start, tet_start, max_sessions,
-- unknown_commune.
INSERT INTO fortnight_student (
    counted_as, school_code, grade, level, commune, status, first_day_missed, sessions_missed,
    period, verdict, eligibility, cause, destination, workplace, in_unit, in_school, verified, student_key
)
WITH wanted AS (
    -- The children the unit's report can count: on a list of one of its schools or living in
    -- a commune it counts (the final WHERE's test, on any of their entries). Only their entries
    -- are ranked below: a child's first entry is the same whatever the unit, and a child with
    -- no such entry is dropped by the final WHERE anyway; ranking every child of a province
    -- for each of its ~100 units was most of the report date's time.
    SELECT e.student_key
    FROM fortnight_list l
    JOIN restricted.student_entry e ON e.submission_id = l.submission_id
    LEFT JOIN fortnight_commune_map cm ON cm.written = e.commune
    LEFT JOIN fortnight_unit_home h ON h.commune = COALESCE(cm.commune, :unknown_commune)
    LEFT JOIN fortnight_unit_school us ON us.school_code = e.school_code
    WHERE h.commune IS NOT NULL OR us.school_code IS NOT NULL
),
entries AS (
    SELECT 'listed' AS counted_as, d.student_key, d.school_code, d.grade, d.commune, d.status,
        d.first_day_missed, d.sessions_missed, d.reason_text, d.destination
    FROM (
        -- A child on two schools' lists (same personal ID, same status) is counted once, with
        -- the latest list (then the first school code); both schools are warned at intake.
        SELECT e.*, ROW_NUMBER() OVER (
            PARTITION BY e.student_key, e.status ORDER BY l.week_ending DESC, e.school_code
        ) AS n
        FROM fortnight_list l
        JOIN restricted.student_entry e ON e.submission_id = l.submission_id
        WHERE e.student_key IN (SELECT student_key FROM wanted)
    ) d
    WHERE d.n = 1
    UNION ALL
    SELECT 'returned', r.student_key, r.school_code, r.grade, r.commune, r.status,
        r.first_day_missed, r.sessions_missed, r.reason_text, r.destination
    FROM (
        SELECT e.*, ROW_NUMBER() OVER (PARTITION BY e.student_key ORDER BY e.week_ending DESC) AS n
        FROM ops.current_submission cs
        JOIN restricted.student_entry e ON e.submission_id = cs.submission_id
        WHERE cs.week_ending IN (:week_1, :week_2) AND e.status = 'da_tro_lai'
    ) r
    WHERE r.n = 1
)
SELECT
    e.counted_as,
    e.school_code,
    e.grade,
    gl.level,
    COALESCE(h.scope_commune, cm.commune, :unknown_commune),
    e.status,
    e.first_day_missed,
    e.sessions_missed,
    CASE
        WHEN e.first_day_missed IS NULL THEN NULL
        WHEN e.first_day_missed <= :year_start THEN 'he'
        WHEN e.first_day_missed < :semester_2_start THEN 'hk1'
        WHEN e.first_day_missed < :tet_start THEN 'hk2'
        ELSE 'sau_tet'
    END,
    CASE
        WHEN vf.presence = 'da_di_khoi' THEN 'left_locality'
        WHEN vf.presence = 'co_mat' THEN 'in_locality'
        ELSE v.verdict
    END,
    CASE
        WHEN gl.level = 'TH' THEN 'khong_ap_dung'
        WHEN e.sessions_missed > :max_sessions THEN 'khong_du_dieu_kien'
        ELSE 'du_dieu_kien'
    END,
    COALESCE(vf.cause, cause.category, 'khac'),
    CASE
        WHEN vf.presence = 'da_di_khoi' THEN COALESCE(vf.destination, 'chua_ro')
        WHEN vf.presence = 'co_mat' THEN 'chua_ro'
        WHEN v.verdict = 'left_locality' AND pd.category <> 'chua_ro' THEN pd.category
        WHEN sd.category <> 'chua_ro' THEN sd.category
        ELSE 'chua_ro'
    END,
    CASE
        WHEN vf.workplace IS NOT NULL THEN vf.workplace
        WHEN v.verdict = 'left_locality' AND pw.category <> 'khong_ro' THEN pw.category
        WHEN sw.category IS NOT NULL THEN sw.category
        ELSE 'khong_ro'
    END,
    CASE WHEN h.commune IS NOT NULL THEN 1 ELSE 0 END,
    CASE WHEN us.school_code IS NOT NULL THEN 1 ELSE 0 END,
    CASE WHEN vf.student_key IS NULL THEN 0 ELSE 1 END,
    e.student_key
FROM entries e
JOIN ref.grade_level gl ON gl.grade = e.grade
LEFT JOIN fortnight_commune_map cm ON cm.written = e.commune
LEFT JOIN fortnight_unit_home h ON h.commune = COALESCE(cm.commune, :unknown_commune)
LEFT JOIN fortnight_unit_school us ON us.school_code = e.school_code
LEFT JOIN restricted.case_verdict v ON v.student_key = e.student_key
LEFT JOIN fortnight_verified vf ON vf.student_key = e.student_key
LEFT JOIN fortnight_text_class cause ON cause.source = 'cause' AND cause.written = e.reason_text
LEFT JOIN fortnight_text_class pd ON pd.source = 'police_destination' AND pd.written = v.destination
LEFT JOIN fortnight_text_class pw ON pw.source = 'police_workplace' AND pw.written = v.workplace
LEFT JOIN fortnight_text_class sd ON sd.source = 'school_destination' AND sd.written = e.destination
LEFT JOIN fortnight_text_class sw ON sw.source = 'school_workplace' AND sw.written = e.destination
WHERE h.commune IS NOT NULL OR us.school_code IS NOT NULL
