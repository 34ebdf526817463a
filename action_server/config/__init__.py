"""Configuration files: `endpoints.yml`, and YAML read with positions and readable errors."""
