"""Audio decoding, Chromaprint fingerprints, the index, matching and AI-origin evidence."""
