"""What tests build their events and submissions from, one definition each."""
