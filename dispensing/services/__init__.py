"""Use cases. Each takes a Ctx, flushes, never commits: the caller owns the transaction."""
