"""Output stage: Parquet parts of the tracks dataset, annotated copies of the inputs."""
