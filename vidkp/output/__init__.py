"""Output stage: the tracks' Parquet contract and part files (`FaceSink`), annotated copies of the inputs."""
from vidkp.output.parquet import COLUMNS, SCHEMA, FaceSink, PartWriter

__all__ = ["COLUMNS", "SCHEMA", "FaceSink", "PartWriter"]
