"""Teach mode (issue 21): one suggested entity at a time, the least certain first; its answers, and the stream that picks them."""
