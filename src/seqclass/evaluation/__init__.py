"""Metrics and plots of predictions against true labels."""
