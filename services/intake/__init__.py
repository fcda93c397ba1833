"""intake: takes requests and volunteers from other systems, validates, de-duplicates, stores."""
