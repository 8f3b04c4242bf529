"""Reliquat: clear the small residual amounts customers leave open on their invoices."""

__version__ = "0.1.0"
