"""A fake OpenAlex API for the tests: see app.py for what it does, fixtures.py for how to use it."""
