import atexit

from django.apps import AppConfig


class PapersConfig(AppConfig):
    name = "papers"

    def ready(self) -> None:
        atexit.register(close_connection_pools)


def close_connection_pools() -> None:
    """Close psycopg pools before interpreter shutdown; left open, their threads each
    stall the exit of every management command for five seconds."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if hasattr(connection, "close_pool"):
            connection.close_pool()
