"""Science facts from maintained data: the store, retrieval, and the guard on spoken numbers."""
