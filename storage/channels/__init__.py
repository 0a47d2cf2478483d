"""What the channels keep: Telegram's live keyboards, WhatsApp's windows and held
replies, and the web chat's lines."""
