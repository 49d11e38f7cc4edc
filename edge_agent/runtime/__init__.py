"""The task runtime: every model is a task, one executor per compute resource, a policy owns time."""
