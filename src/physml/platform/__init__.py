"""Task-agnostic machinery: the only package that imports ray and mlflow."""
