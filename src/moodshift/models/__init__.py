"""The model store: named networks, where they come from, and their converted weights."""
