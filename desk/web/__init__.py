"""The desk's HTTP side: the operator console and its JSON API."""
