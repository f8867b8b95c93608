"""Operational metrics: a port (``port.Metrics``) and its adapters (CloudWatch, a local file)."""
