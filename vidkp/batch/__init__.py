"""Batch stage: the public `run` (resume, manifest, work items), one input's pipeline, long-video segments, Ray workers."""
