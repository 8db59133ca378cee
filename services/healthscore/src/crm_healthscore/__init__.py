"""Health score service: score profiles, scores, history and alerts (R-HLTH-1..6)."""
