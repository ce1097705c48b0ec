"""Airflow glue: assets, shared DAG defaults, task bodies and the local Airflow environment."""
