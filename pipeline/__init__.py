"""The composed job: crawl → classify → index → measure → alert; what the DAGs, the CLI and the demo run."""
