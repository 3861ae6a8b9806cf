"""The data of each dashboard page, one module per page; each page's JSON API route returns it.

A page that shows a slice of another page's data (the overview, an agency's scorecard) imports it
from that page's module; what no one page owns lives in dashboards.queries. The search page's data
is dashboards.searching.
"""

from dashboards.pages import agencies, alerts, freshness, opinion, overview, timeliness, topics

__all__ = ["agencies", "alerts", "freshness", "opinion", "overview", "timeliness", "topics"]
