"""Pieces every app shares: domain errors and the API's error mapping."""
