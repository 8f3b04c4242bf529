"""The Excel side: the ribbon's buttons and the live-workbook adapter, over xlwings."""
