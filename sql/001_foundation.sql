-- ewmatch schema, part 1: the whole domain's tables (DOMAIN.md), tokens and the audit trail.
-- Quantities are people, seats or posts: integers, never fractions.

CREATE TABLE province (
    code        text PRIMARY KEY CHECK (code ~ '^[0-9]{2}$'),  -- GB/T 2260 prefix, e.g. '52' 贵州省
    name        text NOT NULL UNIQUE,
    -- west: the 12 western provinces of the programme; east: those paired with them; other: the rest
    side        text NOT NULL CHECK (side IN ('east', 'west', 'other'))
);

CREATE TABLE county (
    code        char(6) PRIMARY KEY CHECK (code ~ '^[0-9]{6}$'),  -- administrative division code
    name        text NOT NULL,
    province    text NOT NULL REFERENCES province(code),
    prefecture  text NOT NULL DEFAULT '',
    is_key      boolean NOT NULL DEFAULT true,         -- 国家乡村振兴重点帮扶县
    source      text NOT NULL DEFAULT ''
);
CREATE INDEX county_province ON county(province);

-- East-west pairings; the 2021 re-drawing is "current", earlier pairs are still encouraged.
CREATE TABLE pairing (
    id              bigserial PRIMARY KEY,
    east_province   text NOT NULL REFERENCES province(code),
    east_city       text NOT NULL DEFAULT '',           -- '' = the whole province
    west_province   text NOT NULL REFERENCES province(code),
    west_area       text NOT NULL DEFAULT '',           -- prefecture or county name; '' = whole province
    west_county     char(6) REFERENCES county(code),    -- set when the pair names one county
    level           text NOT NULL CHECK (level IN ('province', 'city', 'county')),
    period          text NOT NULL CHECK (period IN ('current', 'earlier')),
    source          text NOT NULL DEFAULT '',
    UNIQUE (east_province, east_city, west_province, west_area, period)
);

-- 2022 national occupational classification: major > mid > small > occupation.
CREATE TABLE occupation (
    code        text PRIMARY KEY CHECK (code ~ '^[0-9](-[0-9]{2}){0,3}$'),
    name        text NOT NULL,
    level       text NOT NULL CHECK (level IN ('major', 'mid', 'small', 'occupation')),
    parent      text REFERENCES occupation(code),
    source      text NOT NULL DEFAULT ''
);
CREATE INDEX occupation_parent ON occupation(parent);

CREATE TABLE organisation (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('school', 'enterprise', 'talent_dispatch')),
    name        text NOT NULL,
    province    text NOT NULL REFERENCES province(code),
    city        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (province, name)
);

CREATE TABLE need (
    id              bigserial PRIMARY KEY,
    county          char(6) NOT NULL REFERENCES county(code),
    kind            text NOT NULL CHECK (kind IN ('labor', 'training', 'school_partnership', 'talent')),
    -- Occupation codes, checked against the classification by ewmatch before they are stored
    -- (an array, not a join table, so a bulk import is a single COPY).
    occupations     text[] NOT NULL CHECK (cardinality(occupations) BETWEEN 1 AND 20),
    quantity        integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000000),
    matched         integer NOT NULL DEFAULT 0 CHECK (matched >= 0 AND matched <= quantity),
    window_start    date NOT NULL,
    window_end      date NOT NULL,
    priority        smallint NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
    poverty_focus   boolean NOT NULL DEFAULT false,     -- 以脱贫人口为重点
    status          text NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'partly_matched', 'filled', 'cancelled')),
    note            text NOT NULL DEFAULT '',
    private_note    text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (window_start <= window_end)
);
CREATE INDEX need_open ON need(kind, county) WHERE status IN ('open', 'partly_matched');
CREATE INDEX need_county ON need(county);
CREATE INDEX need_occupations ON need USING gin (occupations);

CREATE TABLE offer (
    id              bigserial PRIMARY KEY,
    organisation    bigint NOT NULL REFERENCES organisation(id),
    kind            text NOT NULL CHECK (kind IN ('labor', 'training', 'school_partnership', 'talent')),
    occupations     text[] NOT NULL CHECK (cardinality(occupations) BETWEEN 1 AND 20),
    capacity        integer NOT NULL CHECK (capacity BETWEEN 1 AND 1000000),
    matched         integer NOT NULL DEFAULT 0 CHECK (matched >= 0 AND matched <= capacity),
    window_start    date NOT NULL,
    window_end      date NOT NULL,
    place           text NOT NULL DEFAULT '',
    conditions      text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'partly_matched', 'filled', 'withdrawn')),
    note            text NOT NULL DEFAULT '',
    private_note    text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (window_start <= window_end)
);
CREATE INDEX offer_open ON offer(kind) WHERE status IN ('open', 'partly_matched');
CREATE INDEX offer_organisation ON offer(organisation);
CREATE INDEX offer_occupations ON offer USING gin (occupations);

-- A matching run and its proposals. A run is stored whole or not at all.
CREATE TABLE match_run (
    id              bigserial PRIMARY KEY,
    mode            text NOT NULL,
    parameters      jsonb NOT NULL DEFAULT '{}',
    weights         jsonb NOT NULL DEFAULT '{}',
    input_hash      text NOT NULL,
    figures         jsonb NOT NULL DEFAULT '{}',
    started_by      bigint,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE match (
    id              bigserial PRIMARY KEY,
    run             bigint NOT NULL REFERENCES match_run(id),
    need            bigint NOT NULL REFERENCES need(id),
    offer           bigint NOT NULL REFERENCES offer(id),
    units           integer NOT NULL CHECK (units > 0),
    score           integer NOT NULL,
    explanation     jsonb NOT NULL DEFAULT '{}',
    status          text NOT NULL DEFAULT 'proposed'
                    CHECK (status IN ('proposed', 'confirmed', 'declined', 'expired', 'superseded', 'cancelled')),
    west_answer     text CHECK (west_answer IN ('accept', 'decline')),
    west_units      integer,
    east_answer     text CHECK (east_answer IN ('accept', 'decline')),
    east_units      integer,
    confirmed_units integer,
    placed_units    integer NOT NULL DEFAULT 0,
    placed_on       date,
    reason          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX match_by_run ON match(run);
CREATE INDEX match_by_need ON match(need);
CREATE INDEX match_by_offer ON match(offer);
CREATE INDEX match_by_status ON match(status);

-- A declined pair is never proposed again.
CREATE TABLE declined_pair (
    need        bigint NOT NULL REFERENCES need(id),
    offer       bigint NOT NULL REFERENCES offer(id),
    declined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (need, offer)
);

-- The year's targets per province and kind.
CREATE TABLE plan (
    year        integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    province    text NOT NULL REFERENCES province(code),
    kind        text NOT NULL CHECK (kind IN ('labor', 'training', 'school_partnership', 'talent')),
    units       integer NOT NULL CHECK (units >= 0),
    PRIMARY KEY (year, province, kind)
);

-- Access tokens: only a SHA-256 of the secret is kept.
CREATE TABLE api_token (
    id          bigserial PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,
    role        text NOT NULL CHECK (role IN ('admin', 'west', 'east')),
    scope       text NOT NULL DEFAULT '',               -- '' for admin; county/province/organisation otherwise
    label       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz
);

-- Who changed what, and when: written in the same transaction as the change.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    token_id    bigint REFERENCES api_token(id),
    role        text NOT NULL,
    scope       text NOT NULL DEFAULT '',
    command     text NOT NULL,
    target      text NOT NULL DEFAULT '',
    changes     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_token ON audit_log(token_id, at);
CREATE INDEX audit_log_target ON audit_log(target, at);
