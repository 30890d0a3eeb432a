-- Key counties weigh in the score (keyCounty points). Runs stored before counted none.
UPDATE match_run SET weights = weights || '{"keyCounty":0}'::jsonb WHERE NOT weights ? 'keyCounty';
