"""notify: tells volunteers and staff what concerns them, over real channels, with retries."""
