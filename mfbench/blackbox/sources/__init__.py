"""Benchmark data sources: converters and blackbox factories (NB201, offline NB201, YAHPO LCBench)."""
