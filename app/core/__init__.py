"""Pages and endpoints that belong to no feature: the home page and the health check."""
