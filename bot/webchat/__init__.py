"""The public web chat page; its channel is bot/channels/webchat.py."""
