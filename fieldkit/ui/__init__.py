"""The Textual app. It calls services only: no crypto and no SQL of its own."""
