"""Input/output channels: Slack, WeCom and the signed web widget (socket.io)."""
