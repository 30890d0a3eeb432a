-- The yearly report as a province filed it (每年12月15日前报送): the rows frozen as JSON, the
-- CSV file as filed and its SHA-256, who filed it and when. Filing again adds a row: the latest
-- one per year and province is the filed report, the earlier ones its history.
CREATE TABLE report_submission (
    id              bigserial PRIMARY KEY,
    year            integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    province        text NOT NULL REFERENCES province(code),
    rows            jsonb NOT NULL,
    csv             text NOT NULL,
    fingerprint     text NOT NULL,
    token_id        bigint REFERENCES api_token(id),
    label           text NOT NULL DEFAULT '',
    submitted_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_submission_latest ON report_submission (year, province, id DESC);
