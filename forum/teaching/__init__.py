"""The teacher's workspace: the queue of comments waiting for an answer, and the charts."""
