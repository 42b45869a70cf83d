"""Steering methods: patch builders fitted or derived per target (optimised sparse edits, counterfactual patches)."""
