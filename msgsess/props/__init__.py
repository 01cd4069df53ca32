"""Property model: types, identities, names and value codecs."""
