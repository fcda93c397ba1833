"""linli's own common code: settings, messages, broker and database plumbing."""
