-- The dropouts (status bo_hoc) on each school's latest list (fortnight_list), with what the
-- calendar checks need: where the row is (for the school to find it), the first day missed,
-- the cumulative missed sessions and the reason as written.
-- Read by chuyencan.report.school_warnings; the reason text never leaves that module.
SELECT
    l.school_code,
    l.submission_id,
    l.week_ending,
    e.source_row,
    e.class_name,
    e.first_day_missed,
    e.sessions_missed,
    e.reason_text
FROM fortnight_list l
JOIN restricted.student_entry e ON e.submission_id = l.submission_id
WHERE e.status = 'bo_hoc' AND e.first_day_missed IS NOT NULL
ORDER BY l.school_code, e.source_row
