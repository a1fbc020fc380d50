"""Prefect orchestration: thin flows over the plain functions in ``shinchoku``."""
