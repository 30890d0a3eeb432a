-- Eastern provinces and cities set targets too (their agreement targets: workers taken in,
-- people trained, schools partnered, talents dispatched). A western province's plan has no
-- city; an eastern one's may name one, written without the province's name (苏州市, not
-- 江苏省苏州市), as the commands store it.
ALTER TABLE plan ADD COLUMN city text NOT NULL DEFAULT '';
ALTER TABLE plan DROP CONSTRAINT plan_pkey, ADD PRIMARY KEY (year, province, city, kind);
