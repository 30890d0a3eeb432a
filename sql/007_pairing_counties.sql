-- One resolution of a pairing's western side into counties, read by matching runs (the score's
-- pairing part), FILL by=pairing and UNMET alike: one county, the counties of a prefecture (or a
-- county named with its prefecture), or the whole province.
CREATE VIEW pairing_county AS
SELECT p.id AS pairing, c.code AS county
FROM pairing p JOIN county c ON c.province = p.west_province
WHERE p.west_county = c.code
   OR (p.west_county IS NULL AND (p.west_area = '' OR p.west_area IN (c.prefecture, c.name, c.prefecture || c.name)));
