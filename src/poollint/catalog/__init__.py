"""Library knowledge as data: which calls own pools, open transactions, check out connections."""
from poollint.catalog.load import CatalogError, load_catalog
from poollint.catalog.model import Catalog

__all__ = ["Catalog", "CatalogError", "load_catalog"]
