"""Interchange: DDEX ERN messages in and out of the registry."""
