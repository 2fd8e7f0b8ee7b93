"""Demo journeys (python -m devstore.demo --smoke), one module per feature."""
