"""The REST API (FastAPI): thin routes over ``medcoder.service``; one JSON error envelope; API-key roles."""
