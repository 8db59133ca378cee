"""Exports service: streams a view's records to CSV, XLSX or XLS files (R-EXP-*)."""
