-- Who mediated a case at each level (from case.assigned), so that its later steps reach them:
-- the case moving up from their level, its return visit (回访) coming due.
CREATE TABLE case_mediator (
    case_id   uuid NOT NULL,
    level     text NOT NULL,
    recipient text NOT NULL,
    PRIMARY KEY (case_id, level)
);
