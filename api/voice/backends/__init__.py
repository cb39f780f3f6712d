"""One module per backend, imported only when a setting selects it."""
