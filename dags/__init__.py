"""Airflow DAGs (thin TaskFlow compositions) and the pipeline functions they call."""
