"""Notifications: what happened to what a member wrote, in the page and by email."""
