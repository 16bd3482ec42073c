-- The home communes as the schools wrote them on the latest lists; resolved to today's commune
-- names in Python (spellings, aliases, merged communes: chuyencan.core.reference) and written to
-- the scratch table fortnight_commune_map.
SELECT DISTINCT e.commune
FROM fortnight_list l
JOIN restricted.student_entry e ON e.submission_id = l.submission_id
