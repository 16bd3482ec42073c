-- report.fortnight_breakdown for one report date (docs/contracts.md#5-warehouse), after fortnight_summary: one
-- row per scope of the summary, dimension and category (fortnight_category, every category
-- of every dimension, zeros included), counted from the scratch table fortnight_student:
--   cause, grade, workplace_kind: the open dropouts (add up to dropouts_open);
--   left_period, destination: the open dropouts the police found gone (add up to left_locality);
--   returned_eligibility: the fortnight's returns (add up to returned).
-- Scopes as in the summary: the district, the student's level, home commune, school.
-- Bound by name: report_date, district_key.
INSERT INTO report.fortnight_breakdown (
    report_date, reporting_unit, scope, scope_key, dimension, category, students
)
WITH facts AS (
    SELECT school_code, level, commune, 'cause' AS dimension, cause AS category
    FROM fortnight_student WHERE counted_as = 'listed' AND status = 'bo_hoc'
    UNION ALL
    SELECT school_code, level, commune, 'grade', CAST(grade AS VARCHAR(8))
    FROM fortnight_student WHERE counted_as = 'listed' AND status = 'bo_hoc'
    UNION ALL
    SELECT school_code, level, commune, 'workplace_kind', workplace
    FROM fortnight_student WHERE counted_as = 'listed' AND status = 'bo_hoc'
    UNION ALL
    SELECT school_code, level, commune, 'left_period', period
    FROM fortnight_student
    WHERE counted_as = 'listed' AND status = 'bo_hoc' AND verdict = 'left_locality'
    UNION ALL
    SELECT school_code, level, commune, 'destination', destination
    FROM fortnight_student
    WHERE counted_as = 'listed' AND status = 'bo_hoc' AND verdict = 'left_locality'
    UNION ALL
    SELECT school_code, level, commune, 'returned_eligibility', eligibility
    FROM fortnight_student WHERE counted_as = 'returned'
),
counts AS (
    SELECT 'district' AS scope, CAST(:district_key AS VARCHAR(64)) AS scope_key, dimension, category,
        COUNT(*) AS students
    FROM facts GROUP BY dimension, category
    UNION ALL
    SELECT 'level', level, dimension, category, COUNT(*) FROM facts GROUP BY level, dimension, category
    UNION ALL
    SELECT 'commune', commune, dimension, category, COUNT(*) FROM facts GROUP BY commune, dimension, category
    UNION ALL
    SELECT 'school', school_code, dimension, category, COUNT(*)
    FROM facts GROUP BY school_code, dimension, category
)
SELECT s.report_date, s.reporting_unit, s.scope, s.scope_key, c.dimension, c.category, COALESCE(n.students, 0)
FROM report.fortnight_summary s
CROSS JOIN fortnight_category c
LEFT JOIN counts n
    ON n.scope = s.scope AND n.scope_key = s.scope_key
    AND n.dimension = c.dimension AND n.category = c.category
WHERE s.report_date = :report_date
