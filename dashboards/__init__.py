"""The web dashboard and search page for monitoring staff and analysts (FastAPI, JSON API behind every page)."""
