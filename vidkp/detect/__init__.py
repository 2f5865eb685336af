"""Detection stage: Haar cascades propose face boxes; candidates are verified by the landmark model."""
