"""The Gemini API emulator: a real HTTP server that answers as Google does."""
