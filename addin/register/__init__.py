"""The register of committed items: one per installation (see location), its tables (schema),
the store, the commit lock, and the export folders as a second witness."""
