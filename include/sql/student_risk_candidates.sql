-- Early warning, the facts per student on each school's latest list of the school year up to
-- the report date (fortnight_list), for chuyencan.report.early_warning:
--   sessions_so_far: sessions the calendar scheduled in the school year up to the list's week
--     (school days of ref.school_week x sessions_per_day);
--   rising: the student is on each of the school's last list_count lists (the latest and the
--     rising_weeks before it) and their cumulative missed sessions went up on every one.
-- Restricted data in, restricted data out (written to restricted.student_risk).
-- Bound by name: year_start, report_date, list_count, rising_weeks, sessions_per_day.
WITH ranked AS (
    SELECT
        cs.school_code,
        cs.week_ending,
        cs.submission_id,
        ROW_NUMBER() OVER (PARTITION BY cs.school_code ORDER BY cs.week_ending DESC) AS n
    FROM ops.current_submission cs
    WHERE cs.week_ending >= :year_start AND cs.week_ending <= :report_date
),
recent AS (
    SELECT
        e.school_code,
        e.student_key,
        r.n,
        e.sessions_missed,
        LAG(e.sessions_missed) OVER (
            PARTITION BY e.school_code, e.student_key ORDER BY r.week_ending
        ) AS previous
    FROM ranked r
    JOIN restricted.student_entry e ON e.submission_id = r.submission_id
    WHERE r.n <= :list_count
),
trend AS (
    -- Window aggregates rather than GROUP BY ... HAVING: the planner cannot estimate a HAVING
    -- and picked a nested loop over it (7 s at province scale instead of 0.3 s).
    SELECT
        school_code,
        student_key,
        n,
        COUNT(*) OVER (PARTITION BY school_code, student_key) AS lists,
        SUM(CASE WHEN sessions_missed > previous THEN 1 ELSE 0 END)
            OVER (PARTITION BY school_code, student_key) AS rises
    FROM recent
),
so_far AS (
    SELECT w.week_ending, SUM(p.school_days) * :sessions_per_day AS sessions
    FROM ref.school_week w
    JOIN ref.school_week p ON p.school_year = w.school_year AND p.week_ending <= w.week_ending
    GROUP BY w.week_ending
)
SELECT
    e.student_key,
    e.school_code,
    e.grade,
    gl.level,
    cm.commune,
    e.village,
    e.parent_name,
    e.status,
    e.sessions_missed,
    l.week_ending AS list_week,
    sf.sessions AS sessions_so_far,
    CASE WHEN t.lists = :list_count AND t.rises = :rising_weeks THEN 1 ELSE 0 END AS rising
FROM fortnight_list l
JOIN restricted.student_entry e ON e.submission_id = l.submission_id
JOIN ref.grade_level gl ON gl.grade = e.grade
LEFT JOIN fortnight_commune_map cm ON cm.written = e.commune
LEFT JOIN so_far sf ON sf.week_ending = l.week_ending
LEFT JOIN trend t ON t.school_code = e.school_code AND t.student_key = e.student_key AND t.n = 1
ORDER BY l.week_ending DESC, e.school_code, e.source_row
