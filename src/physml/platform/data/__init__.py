"""Datasets: Parquet shards on any filesystem, their readers, and the Ray runners that write them."""
