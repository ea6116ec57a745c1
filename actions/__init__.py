"""Thin rasa_sdk actions: read the tracker, call into `bot/`, render replies."""
