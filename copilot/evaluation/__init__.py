"""`curate eval`: suites of tasks with planted issues and ground truth, simulated reviewers, scores, baselines."""
