"""Page views, one concern per module; every route is listed in paperroute/web/urls.py."""
