-- Kinds that say what happened. `training` stays what it was for the rows already stored (the
-- seats and courses they counted), now read as short courses counted in 人次; technical-school
-- places for 两后生 become their own kind, `enrolment` (people, a term in years), and two-way
-- secondment (双向挂职) a kind with a direction. Rows stored before keep their kind: nothing
-- says which old training rows were enrolment, so none is guessed.
ALTER TABLE need DROP CONSTRAINT need_kind_check;
ALTER TABLE need ADD CONSTRAINT need_kind_check
    CHECK (kind IN ('labor', 'training', 'enrolment', 'school_partnership', 'talent', 'secondment'));
ALTER TABLE offer DROP CONSTRAINT offer_kind_check;
ALTER TABLE offer ADD CONSTRAINT offer_kind_check
    CHECK (kind IN ('labor', 'training', 'enrolment', 'school_partnership', 'talent', 'secondment'));
ALTER TABLE plan DROP CONSTRAINT plan_kind_check;
ALTER TABLE plan ADD CONSTRAINT plan_kind_check
    CHECK (kind IN ('labor', 'training', 'enrolment', 'school_partnership', 'talent', 'secondment'));

-- The kinds' details (ewmatch checks which apply to which kind): a term in months (enrolment in
-- whole years), the western school a partnership helps and whether it is 校校合作 (school) or
-- 企校合作 (enterprise), and which way a secondment goes. Old school partnerships and talents
-- have none stated: they match any partner and term, as before.
ALTER TABLE need ADD COLUMN term_months integer CHECK (term_months BETWEEN 1 AND 72),
                 ADD COLUMN west_school text NOT NULL DEFAULT '',
                 ADD COLUMN partnership text CHECK (partnership IN ('school', 'enterprise')),
                 ADD COLUMN direction text CHECK (direction IN ('to_east', 'to_west')),
                 ADD CONSTRAINT need_direction CHECK ((kind = 'secondment') = (direction IS NOT NULL));
ALTER TABLE offer ADD COLUMN term_months integer CHECK (term_months BETWEEN 1 AND 72),
                  ADD COLUMN partnership text CHECK (partnership IN ('school', 'enterprise')),
                  ADD COLUMN direction text CHECK (direction IN ('to_east', 'to_west')),
                  ADD CONSTRAINT offer_direction CHECK ((kind = 'secondment') = (direction IS NOT NULL));

-- Labour intermediaries (人力资源服务机构, 劳务协作工作站, policy item 三) are organisations too;
-- their labour offers name the enterprise they are for.
ALTER TABLE organisation DROP CONSTRAINT organisation_kind_check;
ALTER TABLE organisation ADD CONSTRAINT organisation_kind_check
    CHECK (kind IN ('school', 'enterprise', 'talent_dispatch', 'hr_agency', 'labour_station'));
ALTER TABLE offer ADD COLUMN employer bigint REFERENCES organisation(id);
