"""Pure helpers: nothing here imports the app."""
