-- Runs store their weights as a JSON object of numbers, one per weight, which RUN SHOW reads
-- back. Runs stored before held Swift's description of the weights, always the defaults then.
UPDATE match_run
SET weights = '{"sameOccupation":300,"sameSmallGroup":200,"sameMidGroup":100,"countyPairing":250,"provincePairing":200,"earlierPairing":100,"perPriority":30,"povertyAlleviated":100,"fullOverlap":80,"perCondition":10,"perQualityPoint":1}'::jsonb
WHERE weights ? 'weights' OR weights = '{}';

-- A run without its weights could not be explained or repeated.
ALTER TABLE match_run ALTER COLUMN weights DROP DEFAULT;
