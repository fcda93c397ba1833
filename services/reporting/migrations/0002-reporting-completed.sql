-- Occurrences reported done (request.completed), beside the other counts.
ALTER TABLE daily_count ADD COLUMN completed integer NOT NULL DEFAULT 0;
