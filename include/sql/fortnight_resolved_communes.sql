-- Every resolved commune a unit's report may meet on the report date: those of the scratch
-- table fortnight_commune_map (children's homes, schools) and those early warning recorded.
-- Bound by name: report_date.
SELECT commune FROM fortnight_commune_map WHERE commune IS NOT NULL
UNION
SELECT commune FROM restricted.student_risk WHERE report_date = :report_date AND commune IS NOT NULL
