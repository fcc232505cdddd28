"""The web studio: one FastAPI application (studio, portraits and rating pages, and the JSON API
they use), served by uvicorn through `moodshift serve`.

Kept light on purpose (no imports here); the command line front end is moodshift.cli.serve.
"""
