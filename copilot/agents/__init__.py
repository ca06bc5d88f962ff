"""Coordinator planners and tool workers."""
