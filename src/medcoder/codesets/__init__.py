"""Official code sets built into read-only, versioned SQLite knowledge bases."""
