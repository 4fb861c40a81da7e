"""Logging in with WeChat, GitHub and Weibo (allauth's social accounts): configuration, the
adapter that makes the member, WeChat's stable identity and the linked-accounts settings."""
