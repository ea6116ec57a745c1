"""NLU: the spaCy pipeline and the custom Rasa components built on it."""
