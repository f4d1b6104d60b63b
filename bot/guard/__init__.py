"""Compliance: findings on agent text, and the contact policy."""
