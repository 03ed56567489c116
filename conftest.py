"""Import the package before pytest collects its modules for doctests.

With ``--import-mode=importlib`` pytest executes a collected module itself; if that
module is the first to import the package, the package's ``__init__`` imports it a
second time and two copies of its classes exist. Importing the package here first
makes pytest reuse the one copy from ``sys.modules``.
"""

import servicekpi  # noqa: F401
