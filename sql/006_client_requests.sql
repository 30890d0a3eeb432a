-- A client that sends NEED ADD, OFFER ADD or an import with req=<key> and gets no answer (the
-- connection broke, OUTCOME_UNKNOWN) may send the same request again: within the window the key
-- names what the first one stored, and the retry is answered with it instead of storing twice.
CREATE TABLE client_request (
    token_id    bigint NOT NULL REFERENCES api_token (id),
    request     text NOT NULL,
    target      text NOT NULL,                -- need:<id>, offer:<id>, or need/offer for an import
    rows        integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (token_id, request)
);
CREATE INDEX client_request_created ON client_request (created_at);
