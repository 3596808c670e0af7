"""paperroute: a self-hostable daily-papers service."""

__version__ = "0.1.0"
