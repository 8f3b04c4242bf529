"""The VBA project of the .xlsm: the compound file, MS-OVBA compression, the modules."""
