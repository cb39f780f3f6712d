"""The FastAPI service and the in-process voice chain."""
