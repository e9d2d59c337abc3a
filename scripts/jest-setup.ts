// Keeps test output readable: framework and task logs are silent unless LOG_LEVEL is set.
process.env.LOG_LEVEL ??= 'silent';
