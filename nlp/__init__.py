"""The project's own spaCy pipeline (built locally; spaCy models cannot be downloaded here)."""
