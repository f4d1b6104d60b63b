"""Chinese text to labels: buyer intent, cause and emotion; agent acts."""
