"""JSON Schemas shipped with seawall (data files; see policy-extensions.schema.json)."""
