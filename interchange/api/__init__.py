"""The interchange API (v1): DDEX ERN import and export."""
