"""The shinchoku benchmark: ``uv run python -m bench [--n 1000]``."""
