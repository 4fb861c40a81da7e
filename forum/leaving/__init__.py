"""Leaving the forum: a member's data to take away (export), and deleting their account."""
