"""Patches of Rasa Open Source 3.6.21 internals, each in a module of its own saying what it replaces and why.

`turns` — a conversation never stays stuck, and a typed button label counts as a click.
`parsing` — the NLU runs on a worker thread, so a long message does not freeze other conversations.
(The older patches, `bot.resilience` and `bot.performance`, are installed the same way.)
"""
