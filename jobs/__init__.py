"""Ray cluster and job definitions for running vidkp at scale (see README, "On a Ray cluster")."""
