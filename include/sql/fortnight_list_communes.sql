-- The home communes as the schools wrote them on the latest lists (fortnight_list), and the
-- schools' own communes (the reference's, and as the school-week's attendance rows recorded
-- them in the school year); resolved to the communes in force on the report date in Python
-- (spellings, aliases, merged communes: chuyencan.core.organisation) and written to the scratch
-- table fortnight_commune_map.
-- Bound by name: year_start, report_date.
SELECT e.commune
FROM fortnight_list l
JOIN restricted.student_entry e ON e.submission_id = l.submission_id
UNION
SELECT s.commune FROM ref.school s WHERE s.commune IS NOT NULL
UNION
SELECT aw.commune
FROM report.attendance_weekly aw
WHERE aw.week_ending >= :year_start AND aw.week_ending <= :report_date AND aw.commune IS NOT NULL
