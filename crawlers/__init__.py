"""Scrapy spiders, extraction and crawl state: agency columns, articles, attachments, news."""
