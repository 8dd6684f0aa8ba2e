"""Money insights: categorisation, recurring payments and runway over a small transaction model.

Pure functions, no database or network; importing this package loads nothing heavy.
"""
