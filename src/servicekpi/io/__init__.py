"""Input and output at the edges: dataframes (narwhals), CSV and Parquet files.

Optional dependencies live here only; each raises
:class:`~servicekpi.exceptions.MissingExtraError` naming the extra to install when it is
missing.
"""
