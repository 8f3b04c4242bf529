"""The OOXML package: our streaming writer, the package checks, reading with calamine, and
the commit's stamps patched into the package."""
