-- reporting's own tables (search_path is the reporting schema).

-- Every event counted, as it came: what a rebuild of the figures reads.
CREATE TABLE event_archive (
    event_id    uuid PRIMARY KEY,
    routing_key text NOT NULL,
    occurred_at timestamptz NOT NULL,
    body        jsonb NOT NULL
);
CREATE INDEX event_archive_by_time ON event_archive (occurred_at);

-- Requests per community and day (the city's day).
CREATE TABLE daily_count (
    community_code text NOT NULL,
    day            date NOT NULL,
    received       integer NOT NULL DEFAULT 0,
    assigned       integer NOT NULL DEFAULT 0,
    escalated      integer NOT NULL DEFAULT 0,
    rejected       integer NOT NULL DEFAULT 0,
    PRIMARY KEY (community_code, day)
);
CREATE INDEX daily_count_by_day ON daily_count (day);
