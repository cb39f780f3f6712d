"""The model registry: versioned models in the database, their folders in the object store."""
