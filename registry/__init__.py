"""The registry: works, recordings, releases, parties, contributions, rights, provenance."""
