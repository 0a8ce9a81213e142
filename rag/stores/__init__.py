"""Where an index lives: the interface (`base.Store`) and its homes (the folder, PostgreSQL)."""
from .address import StoreSpec
from .base import Store

__all__ = ["Store", "StoreSpec"]
