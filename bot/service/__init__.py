"""What runs a conversation over the store: the turn service (bot/service/turns.py)."""
