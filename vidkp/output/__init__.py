"""Outputs made from the tracks: annotated video (H.264), face filters, the HTML report, exports."""
