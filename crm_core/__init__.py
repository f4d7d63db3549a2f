"""The shared client base: models, services, REST API, auth and rights, audit, search."""
