-- report.fortnight_breakdown of one reporting unit for one report date (docs/contracts.md#5-warehouse), after
-- fortnight_summary: one row per scope of the unit's summary, dimension and category
-- (fortnight_category, every category of every dimension, zeros included), counted from the
-- scratch table fortnight_student (the unit's students, include/sql/fortnight_students.sql):
--   cause, grade, workplace_kind: the open dropouts (add up to dropouts_open);
--   left_period, destination: the open dropouts the police found gone (add up to left_locality);
--   returned_eligibility: the fortnight's returns (add up to returned);
--   local_verification: the open dropouts a commune's home visit verified, or not (add up to
--   dropouts_open).
-- Scopes as in the summary: the unit, the student's level and home commune (in_unit), the
-- school (in_school).
-- Bound by name: report_date, reporting_unit, top_scope.
INSERT INTO report.fortnight_breakdown (
    report_date, reporting_unit, scope, scope_key, dimension, category, students
)
WITH facts AS (
    SELECT school_code, level, commune, in_unit, in_school, 'cause' AS dimension, cause AS category
    FROM fortnight_student WHERE counted_as = 'listed' AND status = 'bo_hoc'
    UNION ALL
    SELECT school_code, level, commune, in_unit, in_school, 'grade', CAST(grade AS VARCHAR(8))
    FROM fortnight_student WHERE counted_as = 'listed' AND status = 'bo_hoc'
    UNION ALL
    SELECT school_code, level, commune, in_unit, in_school, 'workplace_kind', workplace
    FROM fortnight_student WHERE counted_as = 'listed' AND status = 'bo_hoc'
    UNION ALL
    SELECT school_code, level, commune, in_unit, in_school, 'left_period', period
    FROM fortnight_student
    WHERE counted_as = 'listed' AND status = 'bo_hoc' AND verdict = 'left_locality'
    UNION ALL
    SELECT school_code, level, commune, in_unit, in_school, 'destination', destination
    FROM fortnight_student
    WHERE counted_as = 'listed' AND status = 'bo_hoc' AND verdict = 'left_locality'
    UNION ALL
    SELECT school_code, level, commune, in_unit, in_school, 'returned_eligibility', eligibility
    FROM fortnight_student WHERE counted_as = 'returned'
    UNION ALL
    SELECT school_code, level, commune, in_unit, in_school, 'local_verification',
        CASE WHEN verified = 1 THEN 'da_xac_minh' ELSE 'chua_xac_minh' END
    FROM fortnight_student WHERE counted_as = 'listed' AND status = 'bo_hoc'
),
counts AS (
    SELECT CAST(:top_scope AS VARCHAR(8)) AS scope, CAST(:reporting_unit AS VARCHAR(64)) AS scope_key,
        dimension, category, COUNT(*) AS students
    FROM facts WHERE in_unit = 1 GROUP BY dimension, category
    UNION ALL
    SELECT 'level', level, dimension, category, COUNT(*)
    FROM facts WHERE in_unit = 1 GROUP BY level, dimension, category
    UNION ALL
    SELECT 'commune', commune, dimension, category, COUNT(*)
    FROM facts WHERE in_unit = 1 GROUP BY commune, dimension, category
    UNION ALL
    SELECT 'school', school_code, dimension, category, COUNT(*)
    FROM facts WHERE in_school = 1 GROUP BY school_code, dimension, category
)
SELECT s.report_date, s.reporting_unit, s.scope, s.scope_key, c.dimension, c.category, COALESCE(n.students, 0)
FROM report.fortnight_summary s
CROSS JOIN fortnight_category c
LEFT JOIN counts n
    ON n.scope = s.scope AND n.scope_key = s.scope_key
    AND n.dimension = c.dimension AND n.category = c.category
WHERE s.report_date = :report_date AND s.reporting_unit = :reporting_unit
