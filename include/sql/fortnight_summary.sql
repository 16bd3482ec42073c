-- report.fortnight_summary for one report date (docs/contracts.md#5-warehouse): one row per scope, for the
-- district, each level, each commune and each school, from
--   submissions: report.submission_status of the fortnight's two weeks, counted per school-week;
--     schools_expected counts distinct schools; a school belongs to every level its grades span
--     and to its own commune (unknown_commune when the reference has none);
--   attendance: report.attendance_weekly of the two weeks (class level, school commune);
--     enrolled from each school's latest week of the two, rate = 1 - absences / scheduled;
--   students: the scratch table fortnight_student (include/sql/fortnight_students.sql):
--     open dropouts (status bo_hoc on each school's latest list) with their breakdowns by
--     period, police verdict and eligibility, so each adds up to dropouts_open; returned =
--     the fortnight's da_tro_lai, once per student;
--   at_risk: restricted.student_risk rows of the report date.
-- A value nobody knows (a school or a home commune outside the reference) is counted under
-- unknown_commune, so every scope's rows add up to the district.
-- Only counts leave the restricted schema.
-- Bound by name: report_date, week_1, week_2, first_day, district_key, unknown_commune.
INSERT INTO report.fortnight_summary (
    report_date, reporting_unit, scope, scope_key,
    schools_expected, submissions_on_time, submissions_late, submissions_missing, submissions_rejected,
    enrolled, attendance_rate,
    dropouts_open, dropouts_new, dropouts_summer, dropouts_hk1, dropouts_hk2, dropouts_after_tet,
    left_locality, in_locality, unverified, eligible_to_continue, not_eligible, returned, at_risk
)
WITH school_level AS (
    SELECT DISTINCT s.school_code, gl.level
    FROM ref.school s
    JOIN ref.grade_level gl ON gl.grade BETWEEN s.grade_min AND s.grade_max
),
attendance_latest AS (
    SELECT school_code, MAX(week_ending) AS week_ending
    FROM report.attendance_weekly
    WHERE week_ending IN (:week_1, :week_2)
    GROUP BY school_code
),
base AS (
    SELECT
        'submission' AS domain, ss.school_code, CAST(NULL AS VARCHAR(4)) AS level,
        COALESCE(s.commune, :unknown_commune) AS commune,
        ss.school_code AS expected_school,
        CASE WHEN ss.status = 'on_time' THEN 1 ELSE 0 END AS on_time,
        CASE WHEN ss.status = 'late' THEN 1 ELSE 0 END AS late,
        CASE WHEN ss.status = 'missing' THEN 1 ELSE 0 END AS missing,
        CASE WHEN ss.status = 'rejected' THEN 1 ELSE 0 END AS rejected,
        CAST(NULL AS INTEGER) AS enrolled, CAST(NULL AS INTEGER) AS scheduled,
        CAST(NULL AS INTEGER) AS absent,
        0 AS dropout, 0 AS new_dropout, 0 AS summer, 0 AS hk1, 0 AS hk2, 0 AS after_tet,
        0 AS left_locality, 0 AS in_locality, 0 AS unverified, 0 AS eligible, 0 AS not_eligible,
        0 AS returned, 0 AS at_risk
    FROM report.submission_status ss
    LEFT JOIN ref.school s ON s.school_code = ss.school_code
    WHERE ss.week_ending IN (:week_1, :week_2)

    UNION ALL
    SELECT
        'attendance', aw.school_code, aw.level, COALESCE(aw.commune, :unknown_commune), NULL,
        0, 0, 0, 0,
        CASE WHEN aw.week_ending = al.week_ending THEN aw.enrolled END,
        aw.student_days_scheduled,
        aw.absent_excused + aw.absent_unexcused,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM report.attendance_weekly aw
    JOIN attendance_latest al ON al.school_code = aw.school_code
    WHERE aw.week_ending IN (:week_1, :week_2)

    UNION ALL
    SELECT
        'student', st.school_code, st.level, st.commune, NULL,
        0, 0, 0, 0,
        NULL, NULL, NULL,
        CASE WHEN st.dropout = 1 THEN 1 ELSE 0 END,
        CASE WHEN st.dropout = 1 AND st.first_day_missed >= :first_day
                  AND st.first_day_missed <= :report_date THEN 1 ELSE 0 END,
        CASE WHEN st.dropout = 1 AND st.period = 'he' THEN 1 ELSE 0 END,
        CASE WHEN st.dropout = 1 AND st.period = 'hk1' THEN 1 ELSE 0 END,
        CASE WHEN st.dropout = 1 AND st.period = 'hk2' THEN 1 ELSE 0 END,
        CASE WHEN st.dropout = 1 AND st.period = 'sau_tet' THEN 1 ELSE 0 END,
        CASE WHEN st.dropout = 1 AND st.verdict = 'left_locality' THEN 1 ELSE 0 END,
        CASE WHEN st.dropout = 1 AND st.verdict = 'in_locality' THEN 1 ELSE 0 END,
        CASE WHEN st.dropout = 1 AND (st.verdict IS NULL
                  OR st.verdict NOT IN ('left_locality', 'in_locality')) THEN 1 ELSE 0 END,
        -- Primary pupils are not subject to the 45-session rule: they count as able to go on.
        CASE WHEN st.dropout = 1 AND st.eligibility <> 'khong_du_dieu_kien' THEN 1 ELSE 0 END,
        CASE WHEN st.dropout = 1 AND st.eligibility = 'khong_du_dieu_kien' THEN 1 ELSE 0 END,
        CASE WHEN st.counted_as = 'returned' THEN 1 ELSE 0 END,
        0
    FROM (
        SELECT f.*, CASE WHEN f.counted_as = 'listed' AND f.status = 'bo_hoc' THEN 1 ELSE 0 END AS dropout
        FROM fortnight_student f
    ) st

    UNION ALL
    SELECT
        'risk', sr.school_code, sr.level, COALESCE(sr.commune, :unknown_commune), NULL,
        0, 0, 0, 0,
        NULL, NULL, NULL,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        1
    FROM restricted.student_risk sr
    WHERE sr.report_date = :report_date
),
expanded AS (
    SELECT CAST(:district_key AS VARCHAR(64)) AS scope_key, 'district' AS scope, b.*
    FROM base b
    UNION ALL
    -- A school's submissions count for each level it teaches; everything else has one level.
    SELECT COALESCE(sl.level, b.level), 'level', b.*
    FROM base b
    LEFT JOIN school_level sl ON b.domain = 'submission' AND sl.school_code = b.school_code
    WHERE COALESCE(sl.level, b.level) IS NOT NULL
    UNION ALL
    SELECT b.commune, 'commune', b.* FROM base b
    UNION ALL
    SELECT b.school_code, 'school', b.* FROM base b
),
scopes AS (
    -- Every scope gets a row, with zeros where nothing happened.
    SELECT 'district' AS scope, CAST(:district_key AS VARCHAR(64)) AS scope_key
    UNION SELECT DISTINCT 'level', level FROM ref.grade_level
    UNION SELECT 'commune', commune_name FROM ref.commune
        WHERE valid_from <= :report_date AND (valid_to IS NULL OR valid_to >= :report_date)
    UNION SELECT 'school', school_code FROM ref.school
        WHERE valid_from <= :report_date AND (valid_to IS NULL OR valid_to >= :report_date)
    UNION SELECT DISTINCT scope, scope_key FROM expanded
)
SELECT
    :report_date,
    CAST(:district_key AS VARCHAR(64)),
    sc.scope,
    sc.scope_key,
    COUNT(DISTINCT x.expected_school),
    COALESCE(SUM(x.on_time), 0),
    COALESCE(SUM(x.late), 0),
    COALESCE(SUM(x.missing), 0),
    COALESCE(SUM(x.rejected), 0),
    SUM(x.enrolled),
    1.0 - SUM(x.absent) * 1.0 / NULLIF(SUM(x.scheduled), 0),
    COALESCE(SUM(x.dropout), 0),
    COALESCE(SUM(x.new_dropout), 0),
    COALESCE(SUM(x.summer), 0),
    COALESCE(SUM(x.hk1), 0),
    COALESCE(SUM(x.hk2), 0),
    COALESCE(SUM(x.after_tet), 0),
    COALESCE(SUM(x.left_locality), 0),
    COALESCE(SUM(x.in_locality), 0),
    COALESCE(SUM(x.unverified), 0),
    COALESCE(SUM(x.eligible), 0),
    COALESCE(SUM(x.not_eligible), 0),
    COALESCE(SUM(x.returned), 0),
    COALESCE(SUM(x.at_risk), 0)
FROM scopes sc
LEFT JOIN expanded x ON x.scope = sc.scope AND x.scope_key = sc.scope_key
GROUP BY sc.scope, sc.scope_key
