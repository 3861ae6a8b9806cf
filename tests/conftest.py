"""Shared fixtures. Each stage owns a fixture module under tests/fixtures/; all of them share one
Elasticsearch node (ES_URL, started by `make test`) and one loaded model per session."""

pytest_plugins = [
    "tests.fixtures.airflow",  # first: sets AIRFLOW_HOME before anything imports Airflow
    "tests.fixtures.es",
    "tests.fixtures.demo_web",
    "tests.fixtures.cms_web",
    "tests.fixtures.model",
    "tests.fixtures.alert_sinks",
]
