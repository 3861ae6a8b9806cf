"""Spiders: `column` (agency list pages → articles + column snapshots) and `news` (feeds + news lists)."""
