-- Each school's latest accepted student list (HocSinh) of the report's school year, as of the
-- report date: the school's full current picture (docs/contracts.md#3-school-weekly-submission),
-- into the scratch table fortnight_list that the summary and early warning read.
-- Bound by name: year_start, report_date.
INSERT INTO fortnight_list (school_code, week_ending, submission_id)
SELECT cs.school_code, cs.week_ending, cs.submission_id
FROM ops.current_submission cs
JOIN (
    SELECT school_code, MAX(week_ending) AS week_ending
    FROM ops.current_submission
    WHERE week_ending >= :year_start AND week_ending <= :report_date
    GROUP BY school_code
) latest ON latest.school_code = cs.school_code AND latest.week_ending = cs.week_ending
