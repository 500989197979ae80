"""seawall: generate resilient, typed Python clients from OpenAPI documents."""

__version__ = "0.1.0"
