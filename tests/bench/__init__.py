"""`make bench`: the portal's speed and memory targets, as ratios measured in one run.

Run with `python -m tests.bench`. Each benchmark compares two measurements made
in the same run (a big table against a small one, a slow path against a fast
one), so the machine's speed cancels out. The files are named `bench_*.py` so
pytest never collects them.
"""
