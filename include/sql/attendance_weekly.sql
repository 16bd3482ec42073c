-- report.attendance_weekly for one school and week, from the file currently in effect
-- (docs/contracts.md#5-warehouse). Commune is the school's; level comes from ref.grade_level.
-- Bound by name: school_code, week_ending.
INSERT INTO report.attendance_weekly (
    week_ending, school_code, commune, level, grade, classes, enrolled,
    student_days_scheduled, absent_excused, absent_unexcused, attendance_rate
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
        / NULLIF(SUM(ca.enrolled * ca.school_days), 0)
FROM ops.current_submission cs
JOIN ops.class_attendance ca ON ca.submission_id = cs.submission_id
JOIN ref.grade_level gl ON gl.grade = ca.grade
LEFT JOIN ref.school s ON s.school_code = ca.school_code
WHERE cs.school_code = :school_code AND cs.week_ending = :week_ending
GROUP BY ca.week_ending, ca.school_code, s.commune, gl.level, ca.grade
