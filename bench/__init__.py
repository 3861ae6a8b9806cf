"""Benchmarks: each bench_<area>.py has a main() printing a small table; `python -m bench` runs them all."""
