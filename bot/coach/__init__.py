"""The coaching engine: playbooks (bot/content/playbooks) rendered with account facts."""
