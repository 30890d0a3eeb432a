-- What a need asks for beyond the occupation (housing, travel_support, wage_guarantee,
-- training_provided, family_support), and an offer's quality rating 0–50: the score's
-- "conditions" and "quality" parts, which were always 0 without them.
ALTER TABLE need ADD COLUMN conditions text[] NOT NULL DEFAULT '{}'
    CHECK (conditions <@ ARRAY['housing', 'travel_support', 'wage_guarantee', 'training_provided', 'family_support']);
ALTER TABLE offer ADD COLUMN quality smallint NOT NULL DEFAULT 0 CHECK (quality BETWEEN 0 AND 50);
