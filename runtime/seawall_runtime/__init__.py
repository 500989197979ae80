"""seawall-runtime: the resilience core that every seawall-generated client runs on."""

__version__ = "0.1.0"
