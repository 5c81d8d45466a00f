"""splhunt: run Splunk SPL detections (ESCU) over Windows logs, on DuckDB or Spark."""

__version__ = "0.1.0"
