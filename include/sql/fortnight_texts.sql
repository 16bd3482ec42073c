-- The free texts the report sorts into codes (chuyencan.report.phrase_rules): the reasons and
-- destinations the schools wrote for the dropouts on their latest lists (fortnight_list), and
-- the police's destination and workplace of the same students. Classified in Python, written
-- back to the scratch table fortnight_text_class; the texts never leave the transaction.
WITH dropouts AS (
    SELECT e.student_key, e.reason_text, e.destination
    FROM fortnight_list l
    JOIN restricted.student_entry e ON e.submission_id = l.submission_id
    WHERE e.status = 'bo_hoc'
)
SELECT DISTINCT 'cause' AS dimension, reason_text AS written FROM dropouts WHERE reason_text IS NOT NULL
UNION
SELECT 'school_place', destination FROM dropouts WHERE destination IS NOT NULL
UNION
SELECT 'police_destination', v.destination
FROM dropouts d JOIN restricted.case_verdict v ON v.student_key = d.student_key
WHERE v.destination IS NOT NULL
UNION
SELECT 'police_workplace', v.workplace
FROM dropouts d JOIN restricted.case_verdict v ON v.student_key = d.student_key
WHERE v.workplace IS NOT NULL
