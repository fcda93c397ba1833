-- Reporting keeps no personal data (issue 12): the archive keeps each event's public form (as
-- linli.events carries it) and, for a request, its beneficiary keyed with reporting's HMAC;
-- the volunteer table keeps no names.
ALTER TABLE event_archive ADD COLUMN beneficiary text;
ALTER TABLE volunteer DROP COLUMN name;
-- Personal fields that nothing counts: dropped here. An archived request.received keeps its
-- beneficiary until reporting has its key: at start (and in `rebuild`) archive.rekey_legacy
-- keys it with the HMAC, keeps the public form, and re-keys the request's facts (their old
-- unsalted SHA-256 keys).
UPDATE event_archive SET body = body - 'name' - 'phone' - 'email' - 'location'
WHERE routing_key = 'volunteer.registered';
UPDATE event_archive SET body = body - 'summary' - 'parties' WHERE routing_key = 'case.received';
UPDATE event_archive SET body = body - 'note' WHERE routing_key = 'completion.reported';
UPDATE event_archive SET body = body - 'description' - 'address' - 'location'
WHERE routing_key = 'request.received';
