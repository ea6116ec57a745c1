"""Dialogue logic that is plain Python: what a rep's message means for the conversation."""
