"""``python -m benchmarks.panel --tickets 10000000 --agents 10000``: the panel benchmark.

The same code as ``servicekpi bench`` (:mod:`servicekpi._bench`).
"""

from servicekpi._bench import main

if __name__ == "__main__":
    main()
