"""Planners: the offline heuristic, recipes, the all-tools baseline and the LLM planner, and what they see."""
