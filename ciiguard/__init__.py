"""ciiguard: a data-residency gate for China CII workloads."""

__version__ = "0.1.0"
