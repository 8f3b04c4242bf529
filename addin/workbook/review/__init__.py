"""The review workbook as the accountant reads it: its layout in three languages, its
content, the texts said in its language, and reading it back."""
