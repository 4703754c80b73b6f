"""`physml sweep`: search spaces, the Tune driver, one trial, the MLflow log and the status report."""
