"""The task runtime: every model is a task, one executor per resource, a policy owns time."""
