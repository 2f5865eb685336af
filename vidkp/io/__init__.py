"""Input stage: expand inputs into sources, read files and object stores, decode videos and images."""
