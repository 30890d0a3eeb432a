-- social_insurance (社会保险) joins the conditions a need may ask for.
ALTER TABLE need DROP CONSTRAINT need_conditions_check;
ALTER TABLE need ADD CONSTRAINT need_conditions_check CHECK (conditions <@ ARRAY[
    'housing', 'travel_support', 'wage_guarantee', 'training_provided', 'family_support', 'social_insurance']);

-- An organisation's quality inputs, set by administrators (ORG UPDATE … quality= base=): its
-- rating 0–50, which its offers score unless they state their own, and whether it is a
-- recognised employment assistance base (就业帮扶基地), which scores `employmentBase` points.
ALTER TABLE organisation ADD COLUMN quality smallint NOT NULL DEFAULT 0 CHECK (quality BETWEEN 0 AND 50),
                         ADD COLUMN employment_base boolean NOT NULL DEFAULT false;

-- Runs stored before these two score parts counted none.
UPDATE match_run SET weights = weights || '{"employmentBase":0,"continuity":0}'::jsonb WHERE NOT weights ? 'continuity';
