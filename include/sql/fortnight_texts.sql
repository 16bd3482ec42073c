-- The free texts the report sorts into codes (chuyencan.report.phrase_rules): the reasons and
-- destinations the schools wrote on their latest lists (fortnight_list), and the police's
-- destination and workplace of the same students. Classified in Python, written back to the
-- scratch table fortnight_text_class; the texts themselves never leave the transaction.
SELECT DISTINCT 'cause' AS dimension, e.reason_text AS written
FROM fortnight_list l
JOIN restricted.student_entry e ON e.submission_id = l.submission_id
WHERE e.status = 'bo_hoc' AND e.reason_text IS NOT NULL
UNION
SELECT 'school_place', e.destination
FROM fortnight_list l
JOIN restricted.student_entry e ON e.submission_id = l.submission_id
WHERE e.status = 'bo_hoc' AND e.destination IS NOT NULL
UNION
SELECT 'police_destination', v.destination
FROM fortnight_list l
JOIN restricted.student_entry e ON e.submission_id = l.submission_id
JOIN restricted.case_verdict v ON v.student_key = e.student_key
WHERE e.status = 'bo_hoc' AND v.destination IS NOT NULL
UNION
SELECT 'police_workplace', v.workplace
FROM fortnight_list l
JOIN restricted.student_entry e ON e.submission_id = l.submission_id
JOIN restricted.case_verdict v ON v.student_key = e.student_key
WHERE e.status = 'bo_hoc' AND v.workplace IS NOT NULL
