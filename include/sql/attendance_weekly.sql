-- report.attendance_weekly for one school and week, from the file currently in effect
-- (docs/contracts.md#5-warehouse). Commune is the school's; level comes from ref.grade_level;
-- reporting_unit is the school's unit on the week's Friday (ref.school_unit, from
-- include/reference/school_units.csv, which gives every open school one unit on every school day),
-- unassigned_unit when it has none.
-- Bound by name: school_code, week_ending, unassigned_unit.
INSERT INTO report.attendance_weekly (
    week_ending, school_code, commune, level, grade, classes, enrolled,
    student_days_scheduled, absent_excused, absent_unexcused, attendance_rate, reporting_unit
)
SELECT
    ca.week_ending,
    ca.school_code,
    s.commune,
    gl.level,
    ca.grade,
    COUNT(*),
    SUM(ca.enrolled),
    SUM(ca.enrolled * ca.school_days),
    SUM(ca.absent_excused),
    SUM(ca.absent_unexcused),
    1.0 - (SUM(ca.absent_excused) + SUM(ca.absent_unexcused)) * 1.0
        / NULLIF(SUM(ca.enrolled * ca.school_days), 0),
    COALESCE(su.reporting_unit, :unassigned_unit)
FROM ops.current_submission cs
JOIN ops.class_attendance ca ON ca.submission_id = cs.submission_id
JOIN ref.grade_level gl ON gl.grade = ca.grade
LEFT JOIN ref.school s ON s.school_code = ca.school_code
LEFT JOIN ref.school_unit su ON su.school_code = ca.school_code
    AND su.valid_from <= :week_ending AND (su.valid_to IS NULL OR su.valid_to >= :week_ending)
WHERE cs.school_code = :school_code AND cs.week_ending = :week_ending
GROUP BY ca.week_ending, ca.school_code, s.commune, gl.level, ca.grade, su.reporting_unit
