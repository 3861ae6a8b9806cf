"""Pure extraction functions (bytes/HTML in, fields out), one module per stage, testable without Scrapy."""
